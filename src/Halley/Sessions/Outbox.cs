using System.Diagnostics;
using Halley.Engine;

namespace Halley.Sessions;

/// <summary>
/// The one reader of an <see cref="Outbox"/>, the one way a delivery wakes a connection: a held
/// <c>/meta/connect</c> (<see cref="HeldConnect"/>), a push connection (<see cref="IPushTarget"/>: a WebSocket, Faye's
/// <c>eventsource</c>) or the writer of an <c>/sse</c> or <c>/stream</c> response.
/// </summary>
/// <remarks>
/// How each one then waits (a task that completes the connect, a flush started on demand, a stream writer's signal)
/// stays its own: those differ in what they send and when they end. What they share is when they are woken, and that
/// is decided by the outbox alone.
/// </remarks>
internal interface IOutboxReader
{
    /// <summary>
    /// Called outside the outbox's lock when messages are ready to drain: once, until the reader drains the outbox or
    /// another reader takes over. Must not block.
    /// </summary>
    void MessagesAvailable();
}

/// <summary>Where an <see cref="Outbox"/> that honours lazy channels reads the time (the session registry's clock).</summary>
internal interface ILazyClock
{
    /// <summary>Now, as a <see cref="TimeProvider"/> timestamp.</summary>
    long Now { get; }

    /// <summary>The longest a lazy message waits before it wakes the reader (<see cref="HalleyOptions.MaxLazyTimeout"/>), in ticks.</summary>
    long MaxLazyTicks { get; }

    /// <summary>
    /// A lazy message now waits until <paramref name="deadline"/> (a <see cref="Now"/> timestamp): the session tells
    /// the shared sweep to look at it then. Called under the outbox's lock.
    /// </summary>
    void LazyDueAt(long deadline);
}

/// <summary>
/// The bounded outbound queue of one subscriber, a Bayeux session or an <c>/sse</c> or <c>/stream</c> response, and
/// the only place the queue-full policy lives (<see cref="HalleyOptions.MaxQueue"/>,
/// <see cref="HalleyOptions.QueueFullPolicy"/>). Against the bound count what is queued, what is held aside while a
/// recovery reads history (<see cref="RecoveryHold"/>), and what was sent but not yet acknowledged (CometD's
/// <c>ack</c> extension, <see cref="AckBatches"/>); a full outbox drops the oldest of those, in that order, or
/// closes and reports the overflow to its owner, which ends the session or aborts the stream.
/// </summary>
/// <remarks>
/// <para><b>One wake-up.</b> The outbox has at most one <see cref="IOutboxReader"/>, and wakes it when something
/// becomes due: a message that is not lazy, a lazy one whose <see cref="HalleyOptions.MaxLazyTimeout"/> is up (the
/// shared sweep asks, <see cref="WakeIfLazyDueLocked"/>), or, for a new reader, what waited for one. It wakes it once
/// per transition: not again until the reader drains or another takes over. A fan-out to a busy subscriber then costs
/// a queued reference and no call at all, and no reader needs to guard against being woken a thousand times.</para>
/// <para><b>Locking.</b> The outbox guards its state with its owner's lock, so the owner changes its own state (the
/// held connect, the push connection, the end of a session) and the outbox's in one step; a lock of its own would add
/// an object per connection and a second lock to the fan-out. Members named <c>…Locked</c> are called with that lock
/// held and return the reader to wake, which the caller wakes after releasing it; the others take the lock
/// themselves, and those that may wake the reader (<see cref="Add"/>, <see cref="EndRecovery"/>,
/// <see cref="SetReader"/>) are called without it. A reader is never woken under the lock: a WebSocket's flush
/// starts inline and takes its connection's lock, which is taken before a session's.</para>
/// <para><b>Lazy channels.</b> Only an outbox given an <see cref="ILazyClock"/> (a session's) lets lazy messages
/// wait; in a stream's every message wakes the writer, as a stream has no held connect whose reply a lazy message
/// would spend.</para>
/// </remarks>
internal sealed class Outbox
{
    private readonly Lock _gate;
    private readonly int _maxQueue;
    private readonly QueueFullPolicy _policy;
    private readonly ILazyClock? _lazy;
    private readonly Queue<EncodedMessage> _queue = new();
    // Created by the first recovery and let go of when none is in progress: most subscribers never recover.
    private RecoveryHold? _hold;
    private AckBatches? _inFlight;
    private IOutboxReader? _reader;
    // The reader was woken and has not drained since: no wake-up until it does, or until another reader takes over.
    private bool _woken;
    private bool _closed;
    private int _nonLazyQueued;
    // When the oldest lazy message queued must go out (0: none queued).
    private long _lazyDeadline;
    // The highest history offset drained to a reader: on a resumed stream, the messages after the client's last
    // event id up to here went into a connection that died (see RequeueLocked).
    private long _lastDrainedOffset;

    /// <summary>Creates an outbox of at most <paramref name="maxQueue"/> messages.</summary>
    /// <param name="maxQueue">The bound: queued, held aside and unacknowledged messages together.</param>
    /// <param name="policy">What a full outbox does.</param>
    /// <param name="lazy">The clock of lazy messages; null: every message wakes the reader.</param>
    /// <param name="gate">The owner's lock, which guards the outbox too; null: the outbox has its own.</param>
    public Outbox(int maxQueue, QueueFullPolicy policy, ILazyClock? lazy, Lock? gate = null)
    {
        _maxQueue = maxQueue;
        _policy = policy;
        _lazy = lazy;
        _gate = gate ?? new Lock();
    }

    /// <summary>Messages queued now (not those held aside or unacknowledged).</summary>
    public int Count
    {
        get { lock (_gate) { return _queue.Count; } }
    }

    /// <summary>How many more messages fit before the outbox is full (0 or less: none).</summary>
    public int Room
    {
        get { lock (_gate) { return RoomLocked; } }
    }

    /// <summary>Whether sent messages are kept until acknowledged (<see cref="KeepUntilAcknowledged"/>).</summary>
    public bool KeepsUnacknowledged => Volatile.Read(ref _inFlight) is not null;

    /// <summary>The position of the newest message drained to a reader (offset 0 before any).</summary>
    public long LastDrained
    {
        get { lock (_gate) { return _lastDrainedOffset; } }
    }

    private int RoomLocked => _maxQueue - _queue.Count - (_hold?.Count ?? 0) - (_inFlight?.Count ?? 0);

    /// <summary>
    /// Queues <paramref name="message"/>, or holds it aside for a recovery in progress, under the queue-full policy,
    /// and wakes the reader if it becomes due. False when the outbox overflowed: it is then closed and empty, and the
    /// owner must end. Ignored (true) once the outbox is closed. Allocates nothing once the queue has grown.
    /// </summary>
    public bool Add(EncodedMessage message)
    {
        IOutboxReader? wake;
        lock (_gate)
        {
            if (_closed)
            {
                return true;
            }
            if (!TryMakeRoomLocked())
            {
                CloseLocked();
                return false;
            }
            if (_hold is not null && _hold.TryHold(message))
            {
                return true;
            }
            wake = QueueLocked(message);
        }
        wake?.MessagesAvailable();
        return true;
    }

    /// <summary>From now until <see cref="EndRecovery"/>, holds aside added messages of channels <paramref name="keys"/> match.</summary>
    public void BeginRecovery(IReadOnlyList<string> keys)
    {
        lock (_gate)
        {
            (_hold ??= new RecoveryHold()).Begin(keys);
        }
    }

    /// <summary>
    /// Queues <paramref name="replay"/>, then what was held aside for <paramref name="keys"/> (see
    /// <see cref="IRecoveringSubscriber.EndRecovery"/>), under the queue-full policy. False when the outbox overflowed,
    /// as for <see cref="Add"/>.
    /// </summary>
    public bool EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay)
    {
        IOutboxReader? wake = null;
        lock (_gate)
        {
            List<EncodedMessage> released = [];
            if (_hold is not null)
            {
                _hold.End(keys, released);
                if (_hold.IsIdle)
                {
                    _hold = null;
                }
            }
            if (_closed)
            {
                return true;
            }
            for (var i = 0; i < replay.Count + released.Count; i++)
            {
                if (!TryMakeRoomLocked())
                {
                    CloseLocked();
                    return false;
                }
                var due = QueueLocked(i < replay.Count ? replay[i] : released[i - replay.Count]);
                wake ??= due;
            }
        }
        wake?.MessagesAvailable();
        return true;
    }

    /// <summary>Moves every queued message into <paramref name="events"/>, oldest first: the reader has drained.</summary>
    public void Drain(List<EncodedMessage> events)
    {
        lock (_gate)
        {
            DrainLocked(events);
        }
    }

    /// <inheritdoc cref="Drain"/>
    public void DrainLocked(List<EncodedMessage> events)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        while (_queue.TryDequeue(out var message))
        {
            events.Add(message);
            if (message.Position is { } position && position.Offset > _lastDrainedOffset)
            {
                _lastDrainedOffset = position.Offset;
            }
        }
        ResetLocked();
    }

    /// <summary>From now on, messages taken by <see cref="TakeBatchLocked"/> are kept until acknowledged, and count against the bound.</summary>
    public void KeepUntilAcknowledged()
    {
        lock (_gate)
        {
            _inFlight ??= new AckBatches();
        }
    }

    /// <summary>
    /// Builds the next batch of the <c>ack</c> extension into <paramref name="events"/>: the unacknowledged messages,
    /// then everything queued, which stays unacknowledged until <see cref="AcknowledgeLocked"/>. Returns its number.
    /// </summary>
    public long TakeBatchLocked(List<EncodedMessage> events)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread && _inFlight is not null);
        var batch = _inFlight!.NextBatch(_queue, events);
        ResetLocked();
        return batch;
    }

    /// <summary>The client received every batch up to <paramref name="batch"/>.</summary>
    public void AcknowledgeLocked(long batch)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        _inFlight?.Acknowledge(batch);
    }

    /// <summary>
    /// Makes <paramref name="reader"/> the one the outbox wakes (null: none). A new reader starts unwoken, and is
    /// returned, to be woken, if something is due for it now: a message that is not lazy, a lazy one that is due, or
    /// unacknowledged ones; with <paramref name="takesAll"/>, any queued message (a new push connection takes what
    /// waits at once). The same reader again changes nothing: it was woken for what is due already.
    /// </summary>
    public IOutboxReader? SetReaderLocked(IOutboxReader? reader, bool takesAll = false)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        if (ReferenceEquals(_reader, reader) || _closed)
        {
            return null;
        }
        _reader = reader;
        _woken = false;
        var due = takesAll ? _queue.Count > 0
            : _nonLazyQueued > 0 || (_lazyDeadline != 0 && _lazy!.Now >= _lazyDeadline) || _inFlight?.Count > 0;
        return due ? WakeLocked() : null;
    }

    /// <summary>Sets the reader of an outbox that has only ever one (a stream's writer).</summary>
    public void SetReader(IOutboxReader reader)
    {
        IOutboxReader? wake;
        lock (_gate)
        {
            wake = SetReaderLocked(reader);
        }
        wake?.MessagesAvailable();
    }

    /// <summary>When the oldest lazy message falls due, as a timestamp; 0 when none waits.</summary>
    public long LazyDeadlineLocked
    {
        get
        {
            Debug.Assert(_gate.IsHeldByCurrentThread);
            return _lazyDeadline;
        }
    }

    /// <summary>For the shared sweep: returns the reader to wake when the oldest lazy message is due at <paramref name="now"/>.</summary>
    public IOutboxReader? WakeIfLazyDueLocked(long now)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        return _lazyDeadline != 0 && now >= _lazyDeadline ? WakeLocked() : null;
    }

    /// <summary>
    /// Puts back at the head of the queue the messages of <paramref name="history"/> (in offset order) after
    /// <paramref name="resumeAfter"/> that were already drained (<see cref="LastDrained"/>): they were lost with the
    /// reader they went to. What does not fit is the oldest of them, and stays lost, as it would without a resume
    /// (the policy of a full outbox, DropOldest, for messages already sent once).
    /// </summary>
    public void RequeueLocked(IReadOnlyList<EncodedMessage> history, long resumeAfter)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        var lost = history.Where(m => m.Position is { } p && p.Offset > resumeAfter && p.Offset <= _lastDrainedOffset).ToList();
        var room = RoomLocked;
        if (lost.Count > room)
        {
            lost.RemoveRange(0, lost.Count - Math.Max(room, 0));
        }
        if (lost.Count == 0 || _closed)
        {
            return;
        }
        // Everything still queued came after what was drained, so the lost messages go first, in their order.
        var queued = _queue.ToArray();
        _queue.Clear();
        foreach (var message in lost)
        {
            _ = QueueLocked(message);
        }
        foreach (var message in queued)
        {
            _queue.Enqueue(message);
        }
    }

    /// <summary>Closes the outbox and lets go of everything in it: later messages are ignored, the reader is forgotten.</summary>
    public void Close()
    {
        lock (_gate)
        {
            CloseLocked();
        }
    }

    /// <inheritdoc cref="Close"/>
    public void CloseLocked()
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        _closed = true;
        _reader = null;
        _queue.Clear();
        _hold?.Clear();
        _hold = null;
        ResetLocked();
    }

    /// <summary>
    /// Makes room for one more message under the policy: true when there is room (after dropping the oldest under
    /// <see cref="QueueFullPolicy.DropOldest"/>: unacknowledged first, as it was sent first, then queued, then held aside).
    /// </summary>
    private bool TryMakeRoomLocked()
    {
        if (RoomLocked > 0)
        {
            return true;
        }
        if (_policy != QueueFullPolicy.DropOldest)
        {
            return false;
        }
        if (_inFlight?.Count > 0)
        {
            _inFlight.DropOldest();
            return true;
        }
        if (_queue.TryDequeue(out var oldest))
        {
            if (!IsLazy(oldest))
            {
                _nonLazyQueued--;
            }
            return true;
        }
        return _hold is not null && _hold.DropOldest();
    }

    /// <summary>Queues <paramref name="message"/>; returns the reader to wake if it is now due.</summary>
    private IOutboxReader? QueueLocked(EncodedMessage message)
    {
        _queue.Enqueue(message);
        if (IsLazy(message))
        {
            if (_lazyDeadline == 0)
            {
                _lazyDeadline = _lazy!.Now + _lazy.MaxLazyTicks;
                _lazy.LazyDueAt(_lazyDeadline);
            }
            return null;
        }
        _nonLazyQueued++;
        return WakeLocked();
    }

    private IOutboxReader? WakeLocked()
    {
        if (_woken || _reader is null)
        {
            return null;
        }
        _woken = true;
        return _reader;
    }

    private bool IsLazy(EncodedMessage message) => _lazy is not null && message.IsLazy;

    /// <summary>The queue was emptied: nothing is due, and the reader may be woken again.</summary>
    private void ResetLocked()
    {
        _nonLazyQueued = 0;
        _lazyDeadline = 0;
        _woken = false;
    }
}
