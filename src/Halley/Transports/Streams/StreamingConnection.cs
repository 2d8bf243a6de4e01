using System.Buffers;
using System.Text.Json;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Transports.Streams;

/// <summary>
/// One open <c>/sse</c> or <c>/stream</c> response: a subscriber of the engine with its own <see cref="Outbox"/>,
/// and the signal its one writer (the request's handler) waits on, which is the outbox's reader.
/// </summary>
/// <remarks>
/// It is deliberately not a <see cref="BayeuxSession"/>: a subscribe-only stream has no client id, no meta
/// channels and no held connect (it resumes from a position, not a session), so a session's expiry, binding and ack machinery would only
/// be dead weight. It is an <see cref="IRecoveringSubscriber"/> with the same outbox as a session
/// (<see cref="HalleyOptions.MaxQueue"/>, <see cref="HalleyOptions.QueueFullPolicy"/>) and an
/// <see cref="ILiveConnection"/> for heartbeats and lifetime. When the outbox overflows under the
/// <see cref="QueueFullPolicy.Disconnect"/> policy the client is not reading: no clean close could reach it, so the
/// connection is aborted (and the stream's client reconnects, SSE by itself).
/// </remarks>
internal sealed class StreamingConnection : IRecoveringSubscriber, ILiveConnection, IStreamSource
{
    private readonly Outbox _outbox;
    private readonly Action _abort;
    private readonly StreamSignal _signal;
    private volatile bool _overflowed;

    public StreamingConnection(int maxQueue, QueueFullPolicy policy, LiveClock clock, Action abort)
    {
        _signal = new StreamSignal(clock);
        _abort = abort;
        // No lazy clock: a stream has no held connect to spare, so every message wakes its writer.
        _outbox = new Outbox(maxQueue, policy, lazy: null);
        _outbox.SetReader(_signal);
    }

    public LiveClock Clock => _signal.Clock;

    /// <summary>Set when the outbox overflowed under the <see cref="QueueFullPolicy.Disconnect"/> policy.</summary>
    public bool Overflowed => _overflowed;

    /// <inheritdoc />
    public void Deliver(EncodedMessage message)
    {
        if (!_outbox.Add(message))
        {
            Overflow();
        }
    }

    /// <inheritdoc />
    public int QueueRoom => _outbox.Room;

    /// <inheritdoc />
    public void CopyHeldSubscriptions(List<HeldSubscription> into)
    {
        // A stream subscribes once, at its start: it holds nothing before.
    }

    /// <inheritdoc />
    public void BeginRecovery(IReadOnlyList<string> keys) => _outbox.BeginRecovery(keys);

    /// <inheritdoc />
    public void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay)
    {
        if (!_outbox.EndRecovery(keys, replay))
        {
            Overflow();
        }
    }

    /// <inheritdoc />
    public void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter)
    {
        // Nothing to record: a stream never adds subscriptions later, so no later recovery asks what it holds.
    }

    /// <inheritdoc />
    /// <remarks>The stream ends, so its client reconnects with its last event id and is told what could not be recovered.</remarks>
    public void MessagesLost() => End();

    /// <summary>The outbox overflowed and closed itself (once): the stream ends.</summary>
    private void Overflow()
    {
        _overflowed = true;
        // The writer is stuck on a client that does not read; aborting frees it. Off the publisher's thread.
        ThreadPool.UnsafeQueueUserWorkItem(static abort => abort(), _abort, preferLocal: false);
        _signal.End();
    }

    /// <inheritdoc />
    public long OnSweep(long now) => _signal.OnSweep(now);

    /// <summary>Ends the stream: wakes the writer, which then stops. Called when the request is aborted.</summary>
    public void End()
    {
        _outbox.Close();
        _signal.End();
    }

    /// <summary>Completes when there is something to do: messages, a heartbeat, the end of the lifetime or of the stream.</summary>
    public Task WaitAsync() => _signal.WaitAsync();

    /// <summary>Takes what the writer must send now.</summary>
    public StreamWork Take(List<EncodedMessage> events)
    {
        // Reset before draining: a delivery that lands after the drain wakes the next wait instead of being missed.
        _signal.Reset();
        _outbox.Drain(events);
        return _signal.Due(hasEvents: events.Count > 0);
    }
}

/// <summary>
/// The wake-up state of one stream's writer: something to send (the <see cref="IOutboxReader"/> of the outbox the
/// writer drains), a heartbeat or the end of the lifetime due (set by the shared sweep through <see cref="OnSweep"/>),
/// or the stream ended. One writer waits on it; anyone wakes it. Shared by the subscribe-only streams
/// (<see cref="StreamingConnection"/>) and Faye's <c>eventsource</c> (<see cref="EventSourceTransport"/>), which
/// differ only in whose outbox they drain.
/// </summary>
internal sealed class StreamSignal(LiveClock clock) : IOutboxReader
{
    private readonly Lock _gate = new();
    private TaskCompletionSource? _waiter;
    private bool _signaled;
    private bool _heartbeatDue;
    private bool _closeDue;
    private bool _ended;

    public LiveClock Clock { get; } = clock;

    /// <summary>
    /// Notes what the sweep found due at <paramref name="now"/> and wakes the writer if anything is. Never blocks.
    /// Returns when the stream next needs a look.
    /// </summary>
    public long OnSweep(long now)
    {
        var due = Clock.Check(now);
        if (due == LiveDue.Nothing)
        {
            return Clock.NextDue();
        }
        lock (_gate)
        {
            if (due == LiveDue.Close)
            {
                _closeDue = true;
            }
            else
            {
                _heartbeatDue = true;
            }
        }
        Wake();
        return Clock.NextDue();
    }

    /// <summary>Ends the stream: the writer's next wait completes at once and reports <see cref="StreamWork.Ended"/>.</summary>
    public void End()
    {
        lock (_gate)
        {
            _ended = true;
        }
        Wake();
    }

    /// <summary>Completes when there is something to do (at once if something happened since the last <see cref="Reset"/>).</summary>
    public Task WaitAsync()
    {
        lock (_gate)
        {
            if (_signaled || _ended)
            {
                _signaled = false;
                return Task.CompletedTask;
            }
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }

    /// <summary>Forgets earlier wake-ups; call it before taking what there is to send.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _signaled = false;
        }
    }

    /// <summary>What is due besides the events just taken; a heartbeat is only due when there are none to send.</summary>
    public StreamWork Due(bool hasEvents)
    {
        lock (_gate)
        {
            var work = new StreamWork(_heartbeatDue && !hasEvents, _closeDue, _ended);
            _heartbeatDue = false;
            return work;
        }
    }

    /// <inheritdoc />
    public void MessagesAvailable() => Wake();

    /// <summary>Wakes the writer, or makes its next wait complete at once.</summary>
    public void Wake()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _signaled = waiter is null;
        }
        waiter?.TrySetResult();
    }
}

/// <summary>What a streaming writer must do on one wake-up.</summary>
internal readonly record struct StreamWork(bool Heartbeat, bool Close, bool Ended);
