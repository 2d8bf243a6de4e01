using Halley.Engine;

namespace Halley.Sessions;

/// <summary>
/// A client's Bayeux session: its subscriptions, its <see cref="Outbox"/>, and the held connect or push connection
/// that drains it (the outbox's reader: the push connection when there is one, else the held connect). All mutable
/// state, the outbox's included, is guarded by one lock; wake-ups happen outside it.
/// </summary>
internal sealed class BayeuxSession : IRecoveringSubscriber, ILazyClock
{
    private readonly Lock _gate = new();
    private readonly SessionRegistry _registry;
    private readonly Outbox _outbox;
    // Each subscription, with the offset after which the session has received its channels' messages (see
    // HeldSubscription); null while it is being added and not yet in the engine's index.
    private readonly Dictionary<string, long?> _subscriptions = new(StringComparer.Ordinal);
    private HeldConnect? _held;
    private IPushTarget? _pushTarget;
    private long _expiresAt;
    // Where this session tells the shared sweep when it may next fall due (see DueTable); unassigned until the
    // registry has published the session, and again once it ended.
    private DueSlot _sweepSlot;
    // Rule 4 of session binding has two one-time windows in which a WebSocket with neither the browser cookie nor
    // the token may take the session over. This flag is the window opened when the server ends the session's socket
    // at its lifetime (DrainAndDetach); it closes at the next connect or claim.
    private int _claimableByWebSocket;
    // The window of an HTTP handshake: open until this registry timestamp (0: closed) or the first WebSocket bound to
    // the session. Not closed by connects: Faye's first connect may go over long-polling while its socket opens.
    private long _handshakeClaimEnd;

    public BayeuxSession(SessionRegistry registry, string id, string token, string? browserId, ISessionCarrier? owner, long expiresAt)
    {
        _registry = registry;
        Id = id;
        Token = token;
        BrowserId = browserId;
        Owner = owner;
        _expiresAt = expiresAt;
        _outbox = new Outbox(registry.Options.MaxQueue, registry.Options.QueueFullPolicy, this, _gate);
    }

    /// <summary>The address the session was created from, counted by <see cref="AdmittedBy"/> until it ends.</summary>
    public System.Net.IPAddress? RemoteAddress { get; init; }

    /// <summary>The limits that admitted the session and count it; null when none did (tests, benchmarks).</summary>
    public Security.Limits.ClientLimits? AdmittedBy { get; init; }

    /// <inheritdoc />
    long ILazyClock.Now => _registry.Now;

    /// <inheritdoc />
    long ILazyClock.MaxLazyTicks => _registry.MaxLazyTicks;

    /// <inheritdoc />
    void ILazyClock.LazyDueAt(long deadline) => _sweepSlot.Lower(deadline);

    public string Id { get; }

    /// <summary>Secret returned at handshake; lets the same client resume the session on a new WebSocket.</summary>
    public string Token { get; }

    /// <summary>The browser cookie value of the client that handshook, when it had one.</summary>
    public string? BrowserId { get; }

    /// <summary>Who the session belongs to and until when (set at handshake, replaced by a token refresh).</summary>
    public Security.Auth.SessionIdentity Identity { get; set; } = Security.Auth.SessionIdentity.Anonymous;

    /// <summary>The connection that owns this session (the WebSocket that created or last adopted it), if any.</summary>
    public ISessionCarrier? Owner { get; set; }

    public TerminationReason TerminationReason { get; private set; }

    public bool IsTerminated => TerminationReason != TerminationReason.None;

    public bool AckEnabled => _outbox.KeepsUnacknowledged;

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

    public int QueuedCount => _outbox.Count;

    public void EnableAck() => _outbox.KeepUntilAcknowledged();

    /// <inheritdoc />
    public void Deliver(EncodedMessage message)
    {
        if (!_outbox.Add(message))
        {
            _registry.Terminate(this, TerminationReason.QueueFull);
        }
    }

    /// <inheritdoc />
    public string? PresenceId => Id;

    /// <inheritdoc />
    /// <remarks>The session ends, so its client handshakes again and resumes its subscriptions from their positions.</remarks>
    public void MessagesLost() => _registry.Terminate(this, TerminationReason.MessagesLost);

    /// <inheritdoc />
    public void BeginRecovery(IReadOnlyList<string> keys) => _outbox.BeginRecovery(keys);

    /// <inheritdoc />
    public void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay)
    {
        if (!_outbox.EndRecovery(keys, replay))
        {
            _registry.Terminate(this, TerminationReason.QueueFull);
        }
    }

    /// <summary>
    /// Starts holding a connect until <paramref name="deadline"/>. A connect already held for this session is
    /// released as <see cref="ConnectOutcome.Replaced"/>. Returns null when the session has ended.
    /// <paramref name="expiryGrace"/> lengthens the session's life after this connect ends (see <see cref="HeldConnect.ExpiryGrace"/>).
    /// A <paramref name="polling"/> connect (long-polling, callback-polling) releases a push target that yields to
    /// polling (<see cref="IPushTarget.YieldsToPolling"/>): the client moved off that stream.
    /// </summary>
    public HeldConnect? BeginConnect(long deadline, bool replyNow, long expiryGrace = 0, bool polling = false)
    {
        HeldConnect held;
        HeldConnect? replaced;
        IPushTarget? released = null;
        IOutboxReader? wake;
        lock (_gate)
        {
            if (IsTerminated)
            {
                return null;
            }
            if (polling && _pushTarget is { YieldsToPolling: true })
            {
                released = _pushTarget;
                _pushTarget = null;
            }
            replaced = _held;
            _claimableByWebSocket = 0;
            held = new HeldConnect(deadline, expiryGrace);
            _held = held;
            _expiresAt = long.MaxValue;
            _sweepSlot.Lower(deadline);
            // Completed under the lock, so the sweep never times out a connect that must reply at once.
            if (replyNow)
            {
                held.TryComplete(ConnectOutcome.Messages);
            }
            wake = ReaderChangedLocked();
        }
        released?.Released();
        wake?.MessagesAvailable();
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
            _sweepSlot.Lower(_expiresAt);
            // Nothing to wake: the reader is the push connection, or none until the next connect.
            _ = ReaderChangedLocked();
            if (IsTerminated || _pushTarget is not null)
            {
                return null;
            }
            if (_outbox.KeepsUnacknowledged)
            {
                return _outbox.TakeBatchLocked(events);
            }
            _outbox.DrainLocked(events);
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
                _sweepSlot.Lower(_expiresAt);
                _ = ReaderChangedLocked();
            }
        }
        held.TryComplete(ConnectOutcome.Replaced);
    }

    /// <summary>Records the client's acknowledgement of every batch up to <paramref name="batch"/>.</summary>
    public void Acknowledge(long batch)
    {
        lock (_gate)
        {
            _outbox.AcknowledgeLocked(batch);
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
    /// were lost with it (<see cref="Outbox.RequeueLocked"/>). <paramref name="history"/> is read up to
    /// <see cref="LastDrained"/>: every message in it is in the past, so nothing fanned out meanwhile can fall between
    /// the read and the requeue.
    /// </summary>
    public bool AttachPushTarget(IPushTarget target, IReadOnlyList<EncodedMessage> history, long resumeAfter)
    {
        IOutboxReader? wake;
        IPushTarget? replaced;
        lock (_gate)
        {
            if (IsTerminated || _outbox.KeepsUnacknowledged)
            {
                return false;
            }
            replaced = _pushTarget == target ? null : _pushTarget;
            _pushTarget = target;
            _outbox.RequeueLocked(history, resumeAfter);
            // A new push connection takes whatever is queued at once, lazy messages too.
            wake = ReaderChangedLocked(takesAll: true);
        }
        replaced?.Released();
        wake?.MessagesAvailable();
        return true;
    }

    /// <summary>The position of the newest message drained to a connection (offset 0 before any).</summary>
    public long LastDrained => _outbox.LastDrained;

    public void DetachPushTarget(IPushTarget target)
    {
        IOutboxReader? wake = null;
        lock (_gate)
        {
            if (_pushTarget == target)
            {
                _pushTarget = null;
                wake = ReaderChangedLocked();
            }
        }
        wake?.MessagesAvailable();
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
                _outbox.DrainLocked(events);
                _pushTarget = null;
                // Nothing is due right after a drain: the held connect, if any, becomes the reader unwoken.
                _ = ReaderChangedLocked();
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
                _outbox.DrainLocked(events);
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
    public int QueueRoom => _outbox.Room;

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
            _outbox.CloseLocked();
            subscriptions = [.. _subscriptions.Keys];
            _subscriptions.Clear();
        }
        held?.TryComplete(ConnectOutcome.Terminated);
        pushTarget?.Released();
        return subscriptions;
    }

    /// <summary>
    /// Takes a slot in the sweep's table, with the bound of this session's next deadline. Called once, by the registry,
    /// after it published the session.
    /// </summary>
    internal void JoinSweep(DueTable<BayeuxSession> table)
    {
        lock (_gate)
        {
            if (!IsTerminated && !_sweepSlot.IsAssigned)
            {
                _sweepSlot = table.Add(this, NextDueLocked());
            }
        }
    }

    /// <summary>Gives up the sweep slot (the session ended); the registry frees it. Default when there was none.</summary>
    internal DueSlot LeaveSweep()
    {
        lock (_gate)
        {
            var slot = _sweepSlot;
            _sweepSlot = default;
            return slot;
        }
    }

    /// <summary>The earliest of the held connect's deadline (or the expiry when none is held) and the oldest lazy message's.</summary>
    private long NextDueLocked()
    {
        var due = _held is { } held ? held.Deadline : _expiresAt;
        return Math.Min(due, _outbox.LazyDeadlineLocked is > 0 and var lazy ? lazy : long.MaxValue);
    }

    /// <summary>One pass of the shared sweep: ends a held connect at its deadline, flushes due lazy messages, reports expiry.</summary>
    internal bool SweepIsExpired(long now)
    {
        HeldConnect? timedOut = null;
        IOutboxReader? wake;
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
            wake = _outbox.WakeIfLazyDueLocked(now);
            expired = _held is null && now >= _expiresAt;
            // Looked at under the lock: the bound becomes exact again (a held connect timing out now keeps it due
            // until its reply has moved the session on to its expiry).
            _sweepSlot.Set(NextDueLocked());
        }
        // A lazy flush that is due wins over a plain timeout: both end the hold, but only one says why.
        wake?.MessagesAvailable();
        timedOut?.TryComplete(ConnectOutcome.Timeout);
        return expired;
    }

    /// <summary>
    /// Tells the outbox who drains it now: the push connection when there is one, else the held connect, else
    /// nobody. Returns the reader to wake (after the lock) when it is new and something already waits for it.
    /// </summary>
    private IOutboxReader? ReaderChangedLocked(bool takesAll = false) => _outbox.SetReaderLocked(_pushTarget ?? (IOutboxReader?)_held, takesAll);

    private void CloseClaimWindowsLocked()
    {
        _claimableByWebSocket = 0;
        _handshakeClaimEnd = 0;
    }
}
