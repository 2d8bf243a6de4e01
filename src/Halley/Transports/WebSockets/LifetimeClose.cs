namespace Halley.Transports.WebSockets;

/// <summary>
/// The end of a WebSocket's lifetime, as a state machine: requested by the sweep; started once no frame is
/// being processed (frames read after the request are dropped); carried out by the next flush, which detaches
/// the push sessions and sends the close frame after the last data frame; then, if the client never answers
/// the close frame, the socket is aborted. A mutable struct, so it lives in a field and is never copied.
/// </summary>
internal struct LifetimeClose
{
    // Under the connection's gate.
    private bool _requested;
    private bool _processingFrame;
    private bool _closeOnFlush;
    // When the client has still not answered the close frame, the sweep aborts the socket (0: not closing).
    private long _abortAt;

    /// <summary>Under the gate: false when the lifetime is ending and the frame read must be dropped.</summary>
    public bool TryBeginFrame()
    {
        if (_requested)
        {
            return false;
        }
        _processingFrame = true;
        return true;
    }

    /// <summary>Under the gate: true when a close was requested while the frame was processed, and starts now.</summary>
    public bool EndFrame(bool released)
    {
        _processingFrame = false;
        return _requested && !released;
    }

    /// <summary>Under the gate: true when the close starts now, false when it already did or waits for the frame being processed.</summary>
    public bool Request(bool released)
    {
        if (released || _requested)
        {
            return false;
        }
        _requested = true;
        return !_processingFrame;
    }

    /// <summary>Under the gate: the next flush is to send the close frame after everything queued.</summary>
    public void CloseOnFlush() => _closeOnFlush = true;

    /// <summary>Under the gate, for the flush: true (once) when this flush is the one to close.</summary>
    public bool TakeCloseOnFlush()
    {
        if (!_closeOnFlush)
        {
            return false;
        }
        _closeOnFlush = false;
        return true;
    }

    /// <summary>The close frame went out: the client must answer by <paramref name="deadline"/>.</summary>
    public void AwaitAnswerUntil(long deadline) => Volatile.Write(ref _abortAt, deadline);

    /// <summary>When the socket is to be aborted if the close frame is still unanswered; <see cref="long.MaxValue"/> when not closing.</summary>
    public readonly long AbortAt => Volatile.Read(in _abortAt) is var at and not 0 ? at : long.MaxValue;

    /// <summary>For the sweep: true when the close frame went out and the client did not answer in time.</summary>
    public readonly bool AnswerOverdue(long now) => now >= AbortAt;
}
