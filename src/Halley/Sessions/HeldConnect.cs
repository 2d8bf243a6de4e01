namespace Halley.Sessions;

/// <summary>Why a held <c>/meta/connect</c> ended.</summary>
internal enum ConnectOutcome
{
    /// <summary>Messages are ready (or the client asked not to wait).</summary>
    Messages,

    /// <summary>The hold time ran out with nothing to send.</summary>
    Timeout,

    /// <summary>A newer connect for the same session took over.</summary>
    Replaced,

    /// <summary>The session ended: see <see cref="BayeuxSession.TerminationReason"/>.</summary>
    Terminated,

    /// <summary>
    /// The connection carrying the connect is closing at the end of its lifetime: the reply advises the client
    /// to reconnect at once, and the session lives on.
    /// </summary>
    ConnectionClosing,
}

/// <summary>
/// One held <c>/meta/connect</c>. It has no timer of its own: the shared sweep completes it at its deadline,
/// and a delivery (as the reader of the session's <see cref="Outbox"/>), a newer connect or the session's end
/// completes it sooner.
/// </summary>
internal sealed class HeldConnect : IOutboxReader
{
    private readonly TaskCompletionSource<ConnectOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HeldConnect(long deadline, long expiryGrace = 0)
    {
        Deadline = deadline;
        ExpiryGrace = expiryGrace;
    }

    /// <summary>When the hold ends, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long Deadline { get; }

    /// <summary>
    /// Extra <see cref="TimeProvider"/> ticks the session survives after this connect ends, on top of
    /// <see cref="HalleyOptions.MaxInterval"/>: the pause its reply advises before the next connect
    /// (Faye's <c>eventsource</c> connects are told to wait <see cref="HalleyOptions.Timeout"/>).
    /// </summary>
    public long ExpiryGrace { get; }

    public Task<ConnectOutcome> Outcome => _completion.Task;

    public bool IsCompleted => _completion.Task.IsCompleted;

    public bool TryComplete(ConnectOutcome outcome) => _completion.TrySetResult(outcome);

    /// <summary>Messages are due: the connect replies with them (its continuation runs asynchronously, so never under the caller's lock).</summary>
    public void MessagesAvailable() => TryComplete(ConnectOutcome.Messages);
}

/// <summary>
/// A connection that pushes a session's messages as they arrive: a WebSocket without the ack extension, or a
/// Faye <c>eventsource</c> stream. While attached it is the reader of the session's <see cref="Outbox"/>, in place
/// of the held connect.
/// </summary>
internal interface IPushTarget : IOutboxReader
{
    /// <summary>
    /// Called outside the session's lock when the session stopped pushing through this target because another
    /// connection took over or the session ended. Must not block.
    /// </summary>
    void Released();

    /// <summary>
    /// Whether a polling connect of the session releases this target. A Faye <c>eventsource</c> stream does: a client
    /// that polls has given up its stream (Halley's client does when a buffering proxy holds it), and only the
    /// stream's end makes that proxy pass on what it held. A WebSocket does not: Faye polls once while its socket opens.
    /// </summary>
    bool YieldsToPolling => false;
}

/// <summary>Why a session ended.</summary>
internal enum TerminationReason
{
    None,
    Disconnected,
    Expired,
    QueueFull,

    /// <summary>Ended by the backend (<c>POST /api/disconnect</c>): the client is told to handshake again.</summary>
    Kicked,

    /// <summary>Messages of one of its channels were lost on their way to this node (a cluster engine's gap): the client resumes.</summary>
    MessagesLost,

    /// <summary>Its connection token expired and no fresh one came (<c>ext.auth.token</c>): <c>403::token_expired</c>.</summary>
    TokenExpired,
}
