namespace Halley.Sessions;

/// <summary>What the protocol needs to know about the connection a batch arrived on.</summary>
internal sealed class TransportContext
{
    /// <summary>The connection type used, e.g. <c>long-polling</c>.</summary>
    public required string ConnectionType { get; init; }

    /// <summary>The browser cookie the request carried (or, for HTTP, the one just issued).</summary>
    public string? BrowserId { get; init; }

    /// <summary>The client's address, which per-address limits count under; null when unknown.</summary>
    public System.Net.IPAddress? RemoteAddress { get; init; }

    /// <summary>
    /// Who the connection belongs to: the identity its connection token or the host's authentication gave; null when
    /// anonymous. A handshake's <c>ext.auth.token</c> takes precedence.
    /// </summary>
    public System.Security.Claims.ClaimsPrincipal? User { get; init; }

    /// <summary>
    /// The connection the batch came on when it outlives the batch and can own sessions (a WebSocket); null for an
    /// HTTP request, which carries one exchange and owns nothing.
    /// </summary>
    public ISessionCarrier? Carrier { get; init; }
}

/// <summary>
/// A long-lived connection that carries sessions: the processor binds the sessions its messages act for to it, and
/// a session remembers it as its owner (session binding, rule 1: the socket that created or adopted a session may
/// act for it). This is all a session knows of how it is carried.
/// </summary>
internal interface ISessionCarrier
{
    /// <summary>
    /// Called with every session a message of a batch acted for, after the binding rules allowed it: the carrier
    /// starts carrying the session (a WebSocket pushes its messages). Must not block.
    /// </summary>
    void SessionUsed(BayeuxSession session);
}

/// <summary>A <c>/meta/connect</c> the transport must hold, then complete through the processor.</summary>
internal sealed class PendingConnect(Protocol.BayeuxMessage message, BayeuxSession session, HeldConnect held, long receivedAt)
{
    public long ReceivedAt { get; } = receivedAt;
    public Protocol.BayeuxMessage Message { get; } = message;
    public BayeuxSession Session { get; } = session;
    public HeldConnect Held { get; } = held;
}
