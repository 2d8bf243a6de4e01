using System.Net.WebSockets;

namespace Halley.Transports.WebSockets;

/// <summary>The end of the lifetime: when it starts (<see cref="LifetimeClose"/>), and what it sends before the close frame.</summary>
internal sealed partial class WebSocketConnection
{
    // Under _gate, except for the close frame's deadline.
    private LifetimeClose _lifetime;

    private bool TryBeginFrame()
    {
        lock (_gate)
        {
            return _lifetime.TryBeginFrame();
        }
    }

    private void EndFrame()
    {
        bool endLifetime;
        lock (_gate)
        {
            endLifetime = _lifetime.EndFrame(_closed);
        }
        if (endLifetime)
        {
            EndLifetime();
        }
    }

    /// <summary>Called by the sweep when the lifetime is over; the close starts now, or when the frame being processed is done.</summary>
    private void RequestLifetimeClose()
    {
        lock (_gate)
        {
            if (!_lifetime.Request(_closed))
            {
                return;
            }
        }
        EndLifetime();
    }

    /// <summary>
    /// Answers every held connect with advice to reconnect at once, then has the flush send the rest and close.
    /// </summary>
    private void EndLifetime()
    {
        var items = AnswerHeldConnectsForClose();
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }
            _outgoing.AddRange(items);
            _lifetime.CloseOnFlush();
        }
        FlushNow();
    }

    /// <summary>
    /// Sends the close frame after everything else (the caller is the flush, so no send can follow: the flush
    /// signal stays set). The read loop then sees the client's close and releases the connection.
    /// </summary>
    private async Task CloseForLifetimeAsync()
    {
        WebSocketLog.Closed(_logger, "lifetime ended");
        var answerBy = _live.CloseDeadline();
        _lifetime.AwaitAnswerUntil(answerBy);
        _live.DueBy(this, answerBy);
        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "connection lifetime ended", _aborted).ConfigureAwait(false);
    }
}
