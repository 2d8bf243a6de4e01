namespace Halley.Client;

/// <summary>Where a <see cref="BayeuxClient"/> is in its session's life.</summary>
public enum BayeuxClientState
{
    /// <summary>No session: not yet connected, disconnected, or stopped by the server's advice.</summary>
    Disconnected,

    /// <summary>The first handshake is in flight.</summary>
    Handshaking,

    /// <summary>A session is established; requests and events flow.</summary>
    Connected,

    /// <summary>
    /// The connection or session was lost; the client is resuming the session or handshaking again,
    /// and will re-subscribe every active subscription before returning to <see cref="Connected"/>.
    /// </summary>
    Reconnecting,
}
