namespace Halley.Client.Internal;

/// <summary>Receives what a transport reads from the server.</summary>
internal interface ITransportSink
{
    /// <summary>
    /// Handles messages in the order the server sent them. May wait (the event queue is bounded),
    /// which in turn pauses reading from the server.
    /// </summary>
    ValueTask OnMessagesAsync(IReadOnlyList<InboundMessage> messages, CancellationToken cancellationToken);

    /// <summary>
    /// The current connection closed or failed; replies to requests sent over it will not come. Never called
    /// for a connection the client itself dropped with <see cref="IClientTransport.ResetAsync"/>.
    /// </summary>
    void OnConnectionLost(Exception error);
}

/// <summary>
/// One Bayeux connection type. Replies and events are handed to the <see cref="ITransportSink"/>, whether
/// they come in an HTTP response (long-polling) or in frames at any time (WebSocket); the client matches
/// replies to requests by id, so both transports look the same to it.
/// </summary>
internal interface IClientTransport : IAsyncDisposable
{
    /// <summary>The Bayeux connection type name: <c>websocket</c> or <c>long-polling</c>.</summary>
    string ConnectionType { get; }

    /// <summary>
    /// True when every reply to a request arrives in the response to that request (long-polling), so a
    /// request whose response lacks its reply can fail at once instead of waiting for a timeout.
    /// </summary>
    bool RepliesInResponse { get; }

    /// <summary>
    /// Makes sure a physical connection exists. Returns true when a new one was opened after an earlier one
    /// was lost: a new WebSocket is not bound to the session yet and must resume it with the session token.
    /// </summary>
    ValueTask<bool> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Sends one batch of messages. Throws when the connection is down; it never reconnects by itself.</summary>
    Task SendAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken);

    /// <summary>Drops the current physical connection (after a failure) so the next <see cref="OpenAsync"/> opens a fresh one.</summary>
    ValueTask ResetAsync();
}
