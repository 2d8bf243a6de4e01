namespace Halley.Protocol;

/// <summary>The Bayeux meta channel names Halley speaks.</summary>
public static class MetaChannels
{
    /// <summary><c>/meta/handshake</c>: creates a session.</summary>
    public const string Handshake = "/meta/handshake";

    /// <summary><c>/meta/connect</c>: the held request that carries events back.</summary>
    public const string Connect = "/meta/connect";

    /// <summary><c>/meta/subscribe</c>.</summary>
    public const string Subscribe = "/meta/subscribe";

    /// <summary><c>/meta/unsubscribe</c>.</summary>
    public const string Unsubscribe = "/meta/unsubscribe";

    /// <summary><c>/meta/disconnect</c>: ends a session.</summary>
    public const string Disconnect = "/meta/disconnect";
}
