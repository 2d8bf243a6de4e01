namespace Halley.Sessions;

/// <summary>What the protocol needs to know about the connection a batch arrived on.</summary>
internal sealed class TransportContext
{
    /// <summary>The connection type used, e.g. <c>long-polling</c>.</summary>
    public required string ConnectionType { get; init; }

    /// <summary>The browser cookie the request carried (or, for HTTP, the one just issued).</summary>
    public string? BrowserId { get; init; }

    /// <summary>The WebSocket connection the batch came on; null for HTTP.</summary>
    public object? Connection { get; init; }

    /// <summary>Called with every session a message of the batch acted for (a WebSocket binds its push target here).</summary>
    public Action<BayeuxSession>? OnSessionUsed { get; init; }
}

/// <summary>A <c>/meta/connect</c> the transport must hold, then complete through the processor.</summary>
internal sealed class PendingConnect(Protocol.BayeuxMessage message, BayeuxSession session, HeldConnect held, long receivedAt)
{
    public long ReceivedAt { get; } = receivedAt;
    public Protocol.BayeuxMessage Message { get; } = message;
    public BayeuxSession Session { get; } = session;
    public HeldConnect Held { get; } = held;
}
