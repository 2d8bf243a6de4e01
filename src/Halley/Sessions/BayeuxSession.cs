using Halley.Engine;

namespace Halley.Sessions;

/// <summary>
/// A client's Bayeux session: its subscriptions, its bounded outbound queue, and the held connect or push
/// connection that drains it. All mutable state is guarded by one lock; wake-ups happen outside it.
/// </summary>
internal sealed class BayeuxSession : IRecoveringSubscriber
{
    private readonly Lock _gate = new();
    private readonly SessionRegistry _registry;
    private readonly Queue<EncodedMessage> _queue = new();
    private readonly RecoveryHold _recoveryHold = new();
    // Each subscription, with the offset after which the session has received its channels' messages (see
    // HeldSubscription); null while it is being added and not yet in the engine's index.
    private readonly Dictionary<string, long?> _subscriptions = new(StringComparer.Ordinal);
    private int _nonLazyQueued;
    private long _lazyDeadline;
    private HeldConnect? _held;
    private IPushTarget? _pushTarget;
    private long _expiresAt;
    private AckBatches? _ack;
    // Rule 4 of session binding has two one-time windows in which a WebSocket with neither the browser cookie nor
    // the token may take the session over. This flag is the window opened when the server ends the session's socket
    // at its lifetime (DrainAndDetach); it closes at the next connect or claim.
    private int _claimableByWebSocket;
    // The window of an HTTP handshake: open until this registry timestamp (0: closed) or the first WebSocket bound to
    // the session. Not closed by connects: Faye's first connect may go over long-polling while its socket opens.
    private long _handshakeClaimEnd;
    // The highest history offset drained to a connection: on a resumed stream, the messages after the client's
    // last event id up to here went into a connection that died, and are sent again from history.
    private long _lastDrainedOffset;

    public BayeuxSession(SessionRegistry registry, string id, string token, string? browserId, ISessionCarrier? owner, long expiresAt)
    {
        _registry = registry;
        Id = id;
        Token = token;
        BrowserId = browserId;
        Owner = owner;
        _expiresAt = expiresAt;
    }

    public string Id { get; }

    /// <summary>Secret returned at handshake; lets the same client resume the session on a new WebSocket.</summary>
    public string Token { get; }

    /// <summary>The browser cookie value of the client that handshook, when it had one.</summary>
    public string? BrowserId { get; }

    /// <summary>The connection that owns this session (the WebSocket that created or last adopted it), if any.</summary>
    public ISessionCarrier? Owner { get; set; }

    public TerminationReason TerminationReason { get; private set; }

    public bool IsTerminated => TerminationReason != TerminationReason.None;

    public bool AckEnabled => _ack is not null;

    /// <summary>
    /// Opens the handshake window of a session handshaken over HTTP: until <paramref name="until"/> (a registry
    /// timestamp), one WebSocket may take the session over without the browser cookie. Faye opens its socket before
    /// its HTTP handshake, when it has no cookie yet, and that socket may first speak only after a connect held over
    /// long-polling, so connects do not close this window; the first WebSocket bound to the session does.
    /// </summary>
    public void OpenHandshakeClaimWindow(long until)
    {
        lock (_gate)
        {
            _handshakeClaimEnd = until;
        }
    }

    /// <summary>
    /// Lets one WebSocket take the session over without cookie or token, if a window is open: the handshake window
    /// (<see cref="OpenHandshakeClaimWindow"/>), or the one that opens when the server closes the session's WebSocket
    /// at the end of its lifetime (<see cref="DrainAndDetach"/>), which closes at the next connect. A claim closes
    /// both: from then on only the socket, the cookie or the token bind.
    /// </summary>
    public bool TryClaimForWebSocket()
    {
        lock (_gate)
        {
            var open = _claimableByWebSocket == 1 || (_handshakeClaimEnd != 0 && _registry.Now < _handshakeClaimEnd);
            CloseClaimWindowsLocked();
            return open;
        }
    }

    /// <summary>
    /// Closes every claim window: a WebSocket now acts for the session (bound by its cookie or token), so the client
    /// has its socket and no other may take the session over by client id alone.
    /// </summary>
    public void CloseClaimWindows()
    {
        lock (_gate)
        {
            CloseClaimWindowsLocked();
        }
    }

    /// <summary>Whether a <c>/meta/connect</c> is being held for this session right now.</summary>
    public bool HasHeldConnect
    {
        get { lock (_gate) { return _held is not null; } }
    }

    public int QueuedCount
    {
        get { lock (_gate) { return _queue.Count; } }
    }

    public void EnableAck()
    {
        lock (_gate)
        {
            _ack ??= new AckBatches();
        }
    }

    /// <inheritdoc />
    public void Deliver(EncodedMessage message)
    {
        bool overflow;
        HeldConnect? wakeHeld = null;
        IPushTarget? wakePush = null;
        lock (_gate)
        {
            if (IsTerminated)
            {
                return;
            }
            overflow = !EnqueueLocked(message, holdAside: true, out var wake);
            if (wake)
            {
                (wakeHeld, wakePush) = WakeTargets();
            }
        }
        if (overflow)
        {
            _registry.Terminate(this, TerminationReason.QueueFull);
            return;
        }
        Wake(wakeHeld, wakePush);
    }

    /// <inheritdoc />
    public void BeginRecovery(IReadOnlyList<string> keys)
    {
        lock (_gate)
        {
            _recoveryHold.Begin(keys);
        }
    }

    /// <inheritdoc />
    public void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay)
    {
        var overflow = false;
        var wake = false;
        HeldConnect? wakeHeld = null;
        IPushTarget? wakePush = null;
        lock (_gate)
        {
            List<EncodedMessage> released = [];
            _recoveryHold.End(keys, released);
            if (IsTerminated)
            {
                return;
            }
            foreach (var message in replay.Concat(released))
            {
                if (!EnqueueLocked(message, holdAside: false, out var wakeForThis))
                {
                    overflow = true;
                    break;
                }
                wake |= wakeForThis;
            }
            if (wake)
            {
                (wakeHeld, wakePush) = WakeTargets();
            }
        }
        if (overflow)
        {
            _registry.Terminate(this, TerminationReason.QueueFull);
            return;
        }
        Wake(wakeHeld, wakePush);
    }

    /// <summary>
    /// Queues <paramref name="message"/> under the queue-full policy, or holds it aside for a recovery in progress;
    /// false when the queue is full under <see cref="QueueFullPolicy.Disconnect"/>. <paramref name="wake"/> says
    /// whether a held connect or push connection should be woken (a non-lazy message was queued).
    /// </summary>
    private bool EnqueueLocked(EncodedMessage message, bool holdAside, out bool wake)
    {
        wake = false;
        if (_queue.Count + _recoveryHold.Count + (_ack?.Count ?? 0) >= _registry.Options.MaxQueue)
        {
            if (_registry.Options.QueueFullPolicy != QueueFullPolicy.DropOldest)
            {
                return false;
            }
            if (_ack?.Count > 0)
            {
                // The oldest message is a sent-but-unacknowledged one: it goes first.
                _ack.DropOldest();
            }
            else if (_queue.Count > 0)
            {
                if (!_queue.Dequeue().IsLazy)
                {
                    _nonLazyQueued--;
                }
            }
            else if (!_recoveryHold.DropOldest())
            {
                return false;
            }
        }
        if (holdAside && _recoveryHold.TryHold(message))
        {
            return true;
        }
        _queue.Enqueue(message);
        if (message.IsLazy)
        {
            if (_lazyDeadline == 0)
            {
                _lazyDeadline = _registry.Now + _registry.MaxLazyTicks;
            }
        }
        else
        {
            _nonLazyQueued++;
            wake = true;
        }
        return true;
    }

    /// <summary>
    /// Starts holding a connect until <paramref name="deadline"/>. A connect already held for this session is
    /// released as <see cref="ConnectOutcome.Replaced"/>. Returns null when the session has ended.
    /// <paramref name="expiryGrace"/> lengthens the session's life after this connect ends (see <see cref="HeldConnect.ExpiryGrace"/>).
    /// </summary>
    public HeldConnect? BeginConnect(long deadline, bool replyNow, long expiryGrace = 0)
    {
        HeldConnect held;
        HeldConnect? replaced;
        lock (_gate)
        {
            if (IsTerminated)
            {
                return null;
            }
            replaced = _held;
            _claimableByWebSocket = 0;
            held = new HeldConnect(deadline, expiryGrace);
            _held = held;
            _expiresAt = long.MaxValue;
            if (replyNow || (_pushTarget is null && HasMessagesForConnect()))
            {
                held.TryComplete(ConnectOutcome.Messages);
            }
        }
        replaced?.TryComplete(ConnectOutcome.Replaced);
        return held;
    }

    /// <summary>
    /// Ends <paramref name="held"/>: the session starts its expiry countdown, and unless a push connection
    /// delivers them, queued messages are moved into <paramref name="events"/>. Returns the ack batch number
    /// those events belong to when the ack extension is on.
    /// </summary>
    public long? CompleteConnect(HeldConnect held, List<EncodedMessage> events)
    {
        lock (_gate)
        {
            if (_held != held)
            {
                return null;
            }
            _held = null;
            _expiresAt = _registry.Now + _registry.MaxIntervalTicks + held.ExpiryGrace;
            if (IsTerminated || _pushTarget is not null)
            {
                return null;
            }
            if (_ack is not null)
            {
                return _ack.NextBatch(_queue, events, ResetQueueCounters);
            }
            DrainLocked(events);
            return null;
        }
    }

    /// <summary>The client went away while its connect was held (request aborted, socket closed).</summary>
    public void AbandonConnect(HeldConnect held)
    {
        lock (_gate)
        {
            if (_held == held)
            {
                _held = null;
                _expiresAt = _registry.Now + _registry.MaxIntervalTicks + held.ExpiryGrace;
            }
        }
        held.TryComplete(ConnectOutcome.Replaced);
    }

    /// <summary>Records the client's acknowledgement of every batch up to <paramref name="batch"/>.</summary>
    public void Acknowledge(long batch)
    {
        lock (_gate)
        {
            _ack?.Acknowledge(batch);
        }
    }

    /// <summary>
    /// Makes <paramref name="target"/> the connection that pushes this session's messages; it is woken at once if
    /// messages are already waiting. Returns false when the session delivers through connect replies only (ack).
    /// </summary>
    /// <remarks>The target it replaces, if any, is told through <see cref="IPushTarget.Released"/>.</remarks>
    public bool AttachPushTarget(IPushTarget target) => AttachPushTarget(target, [], 0);

    /// <summary>
    /// Attaches <paramref name="target"/> like <see cref="AttachPushTarget(IPushTarget)"/>, first putting back at the
    /// head of the queue the messages of <paramref name="history"/> (in offset order) that come after
    /// <paramref name="resumeAfter"/>, the client's last event id, and were already drained to a connection: they
    /// were lost with it. <paramref name="history"/> is read up to <see cref="LastDrained"/>: every message in it is
    /// in the past, so nothing fanned out meanwhile can fall between the read and the requeue.
    /// </summary>
    public bool AttachPushTarget(IPushTarget target, IReadOnlyList<EncodedMessage> history, long resumeAfter)
    {
        bool wake;
        IPushTarget? replaced;
        lock (_gate)
        {
            if (IsTerminated || _ack is not null)
            {
                return false;
            }
            replaced = _pushTarget == target ? null : _pushTarget;
            _pushTarget = target;
            Requeue(history, resumeAfter);
            wake = _queue.Count > 0;
        }
        replaced?.Released();
        if (wake)
        {
            target.MessagesAvailable();
        }
        return true;
    }

    /// <summary>The position of the newest message drained to a connection (offset 0 before any).</summary>
    public long LastDrained
    {
        get { lock (_gate) { return _lastDrainedOffset; } }
    }

    public void DetachPushTarget(IPushTarget target)
    {
        lock (_gate)
        {
            if (_pushTarget == target)
            {
                _pushTarget = null;
            }
        }
    }

    /// <summary>
    /// Moves every queued message into <paramref name="events"/> and detaches <paramref name="target"/>, in one step:
    /// a message either goes out on this connection or stays queued for the next one.
    /// </summary>
    public void DrainAndDetach(IPushTarget target, List<EncodedMessage> events)
    {
        lock (_gate)
        {
            if (_pushTarget == target)
            {
                DrainLocked(events);
                _pushTarget = null;
                // The server is closing the socket (its lifetime ended), not the client going away: the client's
                // next socket may take the session over once, as at the start. CometD's socket carries neither the
                // browser cookie nor Halley's token, and without this it would have to handshake again, losing its
                // subscriptions and whatever is published meanwhile.
                _claimableByWebSocket = 1;
            }
        }
    }

    /// <summary>Moves every queued message into <paramref name="events"/>, if <paramref name="target"/> still pushes this session.</summary>
    public void Drain(IPushTarget target, List<EncodedMessage> events)
    {
        lock (_gate)
        {
            if (_pushTarget == target)
            {
                DrainLocked(events);
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="channel"/> to the session's subscriptions, not yet in effect: the engine's subscribe
    /// puts it in effect (<see cref="SubscriptionsTookEffect"/>). False when the session already has it, has ended,
    /// or has <paramref name="limit"/> subscriptions (then <paramref name="limitReached"/>).
    /// </summary>
    public bool AddSubscription(string channel, int limit, out bool limitReached)
    {
        lock (_gate)
        {
            limitReached = !_subscriptions.ContainsKey(channel) && _subscriptions.Count >= limit;
            return !limitReached && !IsTerminated && _subscriptions.TryAdd(channel, null);
        }
    }

    public bool RemoveSubscription(string channel)
    {
        lock (_gate)
        {
            return _subscriptions.Remove(channel);
        }
    }

    /// <summary>The session's subscriptions.</summary>
    public List<string> Subscriptions()
    {
        lock (_gate)
        {
            return [.. _subscriptions.Keys];
        }
    }

    /// <inheritdoc />
    public int QueueRoom
    {
        // Sent but unacknowledged messages count against the limit, as in Deliver.
        get { lock (_gate) { return _registry.Options.MaxQueue - _queue.Count - _recoveryHold.Count - (_ack?.Count ?? 0); } }
    }

    /// <inheritdoc />
    public void CopyHeldSubscriptions(List<HeldSubscription> into)
    {
        lock (_gate)
        {
            foreach (var (key, receivedAfter) in _subscriptions)
            {
                if (receivedAfter is { } offset)
                {
                    into.Add(new HeldSubscription(key, offset));
                }
            }
        }
    }

    /// <inheritdoc />
    public void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                // A subscription removed meanwhile (an unsubscribe, the session's end) stays removed.
                if (_subscriptions.ContainsKey(key))
                {
                    _subscriptions[key] = receivedAfter;
                }
            }
        }
    }

    public int SubscriptionCount
    {
        get { lock (_gate) { return _subscriptions.Count; } }
    }

    /// <summary>Marks the session ended and releases whatever holds it. Returns its subscriptions, to be removed from the engine.</summary>
    internal string[] MarkTerminated(TerminationReason reason)
    {
        HeldConnect? held;
        IPushTarget? pushTarget;
        string[] subscriptions;
        lock (_gate)
        {
            if (IsTerminated)
            {
                return [];
            }
            TerminationReason = reason;
            held = _held;
            _held = null;
            pushTarget = _pushTarget;
            _pushTarget = null;
            _queue.Clear();
            _recoveryHold.Clear();
            ResetQueueCounters();
            subscriptions = [.. _subscriptions.Keys];
            _subscriptions.Clear();
        }
        held?.TryComplete(ConnectOutcome.Terminated);
        pushTarget?.Released();
        return subscriptions;
    }

    /// <summary>One pass of the shared sweep: ends a held connect at its deadline, flushes due lazy messages, reports expiry.</summary>
    internal bool SweepIsExpired(long now)
    {
        HeldConnect? timedOut = null;
        HeldConnect? wakeHeld = null;
        IPushTarget? wakePush = null;
        bool expired;
        lock (_gate)
        {
            if (IsTerminated)
            {
                return false;
            }
            if (_held is not null && now >= _held.Deadline)
            {
                timedOut = _held;
            }
            if (_lazyDeadline != 0 && now >= _lazyDeadline)
            {
                (wakeHeld, wakePush) = WakeTargets();
            }
            expired = _held is null && now >= _expiresAt;
        }
        // A lazy flush that is due wins over a plain timeout: both end the hold, but only one says why.
        Wake(wakeHeld, wakePush);
        timedOut?.TryComplete(ConnectOutcome.Timeout);
        return expired;
    }

    private bool HasMessagesForConnect() =>
        _nonLazyQueued > 0 || (_lazyDeadline != 0 && _registry.Now >= _lazyDeadline) || (_ack?.Count > 0);

    private (HeldConnect?, IPushTarget?) WakeTargets() => _pushTarget is not null ? (null, _pushTarget) : (_held, null);

    private static void Wake(HeldConnect? held, IPushTarget? push)
    {
        held?.TryComplete(ConnectOutcome.Messages);
        push?.MessagesAvailable();
    }

    private void DrainLocked(List<EncodedMessage> events)
    {
        while (_queue.TryDequeue(out var message))
        {
            events.Add(message);
            if (message.Position is { } position && position.Offset > _lastDrainedOffset)
            {
                _lastDrainedOffset = position.Offset;
            }
        }
        ResetQueueCounters();
    }

    private void Requeue(IReadOnlyList<EncodedMessage> history, long resumeAfter)
    {
        var lost = history.Where(m => m.Position is { } p && p.Offset > resumeAfter && p.Offset <= _lastDrainedOffset).ToList();
        // The queue stays within MaxQueue: what does not fit is the oldest of what is sent again, and stays lost as
        // it would without a resume (the policy of a full queue, DropOldest, for messages already sent once).
        var room = _registry.Options.MaxQueue - _queue.Count;
        if (lost.Count > room)
        {
            lost.RemoveRange(0, lost.Count - Math.Max(room, 0));
        }
        if (lost.Count == 0)
        {
            return;
        }
        // Everything still queued came after what was drained, so the lost messages go first, in their order.
        var queued = _queue.ToArray();
        _queue.Clear();
        foreach (var message in lost.Concat(queued))
        {
            _queue.Enqueue(message);
            if (!message.IsLazy)
            {
                _nonLazyQueued++;
            }
        }
        _nonLazyQueued -= queued.Count(m => !m.IsLazy);
    }

    private void CloseClaimWindowsLocked()
    {
        _claimableByWebSocket = 0;
        _handshakeClaimEnd = 0;
    }

    private void ResetQueueCounters()
    {
        _nonLazyQueued = 0;
        _lazyDeadline = 0;
    }
}
