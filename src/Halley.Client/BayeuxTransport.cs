namespace Halley.Client;

/// <summary>The connection type a <see cref="BayeuxClient"/> speaks to the server.</summary>
public enum BayeuxTransport
{
    /// <summary>
    /// One WebSocket carries requests, replies and pushed events (Bayeux connection type <c>websocket</c>).
    /// </summary>
    WebSocket,

    /// <summary>
    /// HTTP POSTs of JSON arrays; events arrive in the body of a held <c>/meta/connect</c>
    /// (Bayeux connection type <c>long-polling</c>). Works through proxies that refuse WebSocket upgrades.
    /// </summary>
    LongPolling,
}
