using System.Net.WebSockets;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Transports.WebSockets;

/// <summary>Sending: flushes started on demand (<see cref="FlushSignal"/>), one at a time, that own every send.</summary>
internal sealed partial class WebSocketConnection
{
    private List<OutgoingMessage> _outgoing = [];
    private List<OutgoingMessage>? _flushItems;
    private List<EncodedMessage>? _flushEvents;
    private FlushSignal _flush;

    /// <summary>
    /// A session's outbox has messages (the fan-out calls this once per delivery): the flush goes to the
    /// <see cref="DeliveryLanes"/> rather than running on the delivering thread. So a fan-out to many sockets only
    /// queues (its sends run on every core), and what reaches a socket while its flush waits to run, or while a send
    /// is in flight, goes out in the same frame, one Bayeux array.
    /// </summary>
    public void MessagesAvailable()
    {
        if (_flush.Wake())
        {
            DeliveryLanes.Shared.Schedule(this);
        }
    }

    /// <summary>Runs the flush <see cref="MessagesAvailable"/> queued.</summary>
    void IDeliveryWork.RunDelivery() => _ = FlushAsync();

    /// <summary>
    /// Starts a flush on this thread unless one is running: for what the connection queued itself (replies to its
    /// client's requests, a held connect's answer, the close), which go out without a hop to the thread pool. There
    /// is no resident writer loop: an idle connection holds no writer state, buffer or signal, and a flush ends as
    /// soon as nothing is left to send.
    /// </summary>
    private void FlushNow()
    {
        if (_flush.Wake())
        {
            _ = FlushAsync();
        }
    }

    private async Task FlushAsync()
    {
        // One flush runs at a time, so it reuses the connection's two lists; they exist from the first flush on.
        var items = _flushItems ??= [];
        var events = _flushEvents ??= [];
        try
        {
            while (true)
            {
                if (!_flush.TakeDirty())
                {
                    if (_flush.TryStop())
                    {
                        return;
                    }
                    continue;
                }
                var close = false;
                lock (_gate)
                {
                    // Swap the producers' list for the flush's empty one, and remember which list the flush
                    // now owns: the next flush must start from that one, never from the list producers append to.
                    (items, _outgoing) = (_outgoing, items);
                    _flushItems = items;
                    if (_lifetime.TakeCloseOnFlush())
                    {
                        // Drain and detach in one step per session: a message either goes out before the close
                        // frame or stays queued for the client's next connection.
                        foreach (var session in _pushSessions)
                        {
                            session.DrainAndDetach(this, events);
                        }
                        _pushSessions.Clear();
                        close = true;
                    }
                    else
                    {
                        foreach (var session in _pushSessions)
                        {
                            session.Drain(this, events);
                        }
                    }
                    if (_closed)
                    {
                        return;
                    }
                }
                if (items.Count == 0 && events.Count == 0)
                {
                    if (close)
                    {
                        await CloseForLifetimeAsync().ConfigureAwait(false);
                        return;
                    }
                    continue;
                }
                // The common case of a fan-out, one event and nothing else, sends the engine's shared frame.
                PooledBufferWriter? pooled = null;
                var frame = items.Count == 0 && events.Count == 1 ? events[0].Frame : WebSocketFrameWriter.Build(items, events, out pooled);
                items.Clear();
                events.Clear();
                try
                {
                    var send = _frames is { } frames
                        ? frames.SendTextAsync(frame, _aborted)
                        : _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _aborted);
                    // Await (and so allocate this method's state) only when the socket pushes back.
                    if (send.IsCompletedSuccessfully)
                    {
                        send.GetAwaiter().GetResult();
                    }
                    else
                    {
                        await send.ConfigureAwait(false);
                    }
                    _live.Sent();
                }
                finally
                {
                    pooled?.Dispose();
                }
                if (close)
                {
                    await CloseForLifetimeAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // The socket closed under the flush; the read loop reports why. Leave the flush signal set: nothing more is sent.
        }
        catch (Exception ex)
        {
            // A bug, not the network. A flush that died silently would leave the flush signal set and the client waiting
            // forever for replies; cut the socket instead, so the client reconnects and its session carries on.
            WebSocketLog.FlushFailed(_logger, ex);
            _socket.Abort();
        }
    }
}
