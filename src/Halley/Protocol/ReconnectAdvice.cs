namespace Halley.Protocol;

/// <summary>What a reply tells the client to do next (the Bayeux <c>advice</c> field).</summary>
public enum ReconnectAdvice
{
    /// <summary>Field omitted.</summary>
    None = 0,

    /// <summary><c>retry</c>: send the next <c>/meta/connect</c> after <c>interval</c>.</summary>
    Retry,

    /// <summary><c>handshake</c>: the session is gone; handshake again.</summary>
    Handshake,

    /// <summary><c>none</c>: do not reconnect.</summary>
    Stop,
}
