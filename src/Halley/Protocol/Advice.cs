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

/// <summary>The Bayeux <c>advice</c> object of a reply. Times are in milliseconds on the wire.</summary>
internal sealed class Advice
{
    public ReconnectAdvice Reconnect { get; init; }
    public long? Interval { get; init; }
    public long? Timeout { get; init; }
    public long? MaxInterval { get; init; }

    public static readonly Advice Handshake = new() { Reconnect = ReconnectAdvice.Handshake, Interval = 0 };
    public static readonly Advice Stop = new() { Reconnect = ReconnectAdvice.Stop };

    public static string ToWire(ReconnectAdvice advice) => advice switch
    {
        ReconnectAdvice.Retry => "retry",
        ReconnectAdvice.Handshake => "handshake",
        ReconnectAdvice.Stop => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(advice)),
    };
}
