namespace Halley.Engine;

/// <summary>
/// The engine of a single node, and the default: positions from one sequence, histories in memory, messages handed
/// straight to this node's listener. It keeps the <see cref="IMessageEngine"/> contract without a lock across
/// channels: a publish to a channel with history takes that channel's lock for its sequence number and history append
/// only, then the message waits in an ordered ring until every lower number has been handed on, so the node receives
/// positioned messages in position order whichever thread published them.
/// </summary>
public sealed class InMemoryMessageEngine : IMessageEngine
{
    // Enough for every publish in flight on a busy node; a publisher that finds the ring full waits until its number
    // fits (the lowest number outstanding always fits, so this never deadlocks).
    private const int RingSize = 1 << 14;

    // Most messages one thread hands on in a row before it leaves the rest to the thread pool.
    private const int HandOnBudget = 256;

    private readonly HistoryStore _history;
    private readonly IdempotencyKeys _idempotencyKeys;
    private readonly InterestSet _interest = new();
    private readonly EncodedMessage?[] _ring = new EncodedMessage?[RingSize];
    // Beside each slot: whether the node wanted the message when it was published (written before the slot).
    private readonly bool[] _wanted = new bool[RingSize];
    // Taken only to decide, for one message, that nobody here wants it and to move the cursor past it: a declaration
    // of interest waits for a decision in progress, so no message it covers is passed over after it completes.
    private readonly Lock _interestGate = new();
    private IEngineListener? _listener;
    private long _sequence;
    private long _handedThrough;
    // The highest number taken out of the ring, handed on or passed over (ahead of _handedThrough while the listener
    // handles it): every message at or before it is in its history.
    private long _takenThrough;
    private int _handing;

    /// <summary>Creates the engine with the history rules of <paramref name="options"/>.</summary>
    public InMemoryMessageEngine(Microsoft.Extensions.Options.IOptions<HalleyOptions> options, TimeProvider time)
    {
        _history = new HistoryStore(new HistoryRules(options.Value.History.Channels), time);
        _idempotencyKeys = new IdempotencyKeys(options.Value.Api.IdempotencyWindow, time);
        Epoch = NewEpoch();
    }

    /// <inheritdoc />
    public string Epoch { get; }

    /// <inheritdoc />
    public bool HasHistory => _history.IsEnabled;

    /// <inheritdoc />
    public StreamPosition Cursor => new(Epoch, Volatile.Read(ref _handedThrough));

    /// <summary>Channels with retained messages, and the number of those messages.</summary>
    public (int Channels, long Messages) HistorySize => (_history.ChannelCount, _history.MessageCount);

    /// <inheritdoc />
    public void Start(IEngineListener listener)
    {
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            throw new InvalidOperationException("The engine is already started.");
        }
    }

    /// <inheritdoc />
    public ValueTask<StreamPosition?> PublishAsync(EncodedMessage message, CancellationToken cancellationToken)
    {
        var listener = _listener ?? throw new InvalidOperationException("The engine is not started.");
        if (message.IdempotencyKey is not { } key)
        {
            return ValueTask.FromResult(Publish(message, listener));
        }
        if (!_idempotencyKeys.TryClaim(key, out var earlier))
        {
            message.MarkDuplicateOf(earlier);
            return ValueTask.FromResult(earlier);
        }
        try
        {
            var position = Publish(message, listener);
            _idempotencyKeys.Complete(key, position);
            return ValueTask.FromResult(position);
        }
        catch
        {
            _idempotencyKeys.Release(key);
            throw;
        }
    }

    /// <summary>Idempotency keys remembered now (tests: the sweep lets go of them).</summary>
    internal int IdempotencyKeyCount => _idempotencyKeys.Count;

    private StreamPosition? Publish(EncodedMessage message, IEngineListener listener)
    {
        if (_history.RuleFor(message.Channel) is not { } rule)
        {
            if (_interest.Matches(message))
            {
                listener.OnMessage(message);
            }
            return null;
        }
        // Decided here, in parallel with other publishers; a message found unwanted is looked at again under the
        // interest lock when it is handed on, so a declaration made meanwhile is honoured.
        var wanted = _interest.Matches(message);
        while (true)
        {
            var history = _history.For(message.Channel, rule);
            lock (history.Gate)
            {
                if (history.IsRemoved)
                {
                    _history.Forget(history);
                    continue;
                }
                // Number, position, append and entry into the ring under the channel's lock: a channel's messages
                // enter the ring in the order of their numbers, and no message is handed on before its history has it.
                var offset = Interlocked.Increment(ref _sequence);
                message.AssignPosition(new StreamPosition(Epoch, offset));
                _history.Append(history, offset, message);
                Enter(offset, message, wanted);
            }
            break;
        }
        HandOn();
        return message.Position;
    }

    /// <inheritdoc />
    public ValueTask DeclareInterestAsync(string channelOrPattern, CancellationToken cancellationToken)
    {
        lock (_interestGate)
        {
            _interest.Add(channelOrPattern);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask WithdrawInterestAsync(string channelOrPattern, CancellationToken cancellationToken)
    {
        lock (_interestGate)
        {
            _interest.Remove(channelOrPattern);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<HistoryResult> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        if (query.Limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "A history page holds at least one message: the limit must be 1 or more.");
        }
        // Every message taken out of the ring is in its history (appended before it entered): reading no further makes
        // the read a consistent prefix although later numbers may be appended out of order. Taken, not handed: the
        // node may ask for a message its fan-out has finished while the cursor has yet to move past it.
        var through = Volatile.Read(ref _takenThrough);
        if (query.Through is { } bound && bound.Epoch == Epoch)
        {
            through = Math.Min(through, bound.Offset);
        }
        var since = query.Since;
        if (since is { } position && (position.Epoch != Epoch || position.Offset > through))
        {
            return ValueTask.FromResult(new HistoryResult([], false, false, new StreamPosition(Epoch, through)));
        }
        var read = _history.Read(query.Keys, query.Held, since?.Offset ?? 0, through, query.Limit, query.AllOrNothing);
        var last = read.Truncated && read.Entries.Count > 0 ? read.Entries[^1].Offset : through;
        return ValueTask.FromResult(new HistoryResult(read.Entries.ConvertAll(e => e.Message), read.Complete, read.Truncated, new StreamPosition(Epoch, last)));
    }

    /// <inheritdoc />
    public void Sweep()
    {
        if (_history.IsEnabled)
        {
            _history.Expire();
        }
        _idempotencyKeys.Expire();
    }

    private void Enter(long offset, EncodedMessage message, bool wanted)
    {
        var spin = new SpinWait();
        while (offset - Volatile.Read(ref _handedThrough) > RingSize)
        {
            // The ring is full. Wait without handing on: this thread holds its channel's lock, and the listener is
            // never called under an engine lock. The thread with the lowest number outstanding always fits, enters
            // and hands on after leaving its lock (or the thread pool goes on), so the ring drains.
            spin.SpinOnce(sleep1Threshold: 20);
        }
        _wanted[offset & (RingSize - 1)] = wanted;
        Volatile.Write(ref _ring[offset & (RingSize - 1)], message);
    }

    /// <summary>
    /// Hands on the messages that are next in order, one at a time, on whichever publishing thread finds them ready
    /// (one at a time across threads: a flag, not a lock, so a thread that finds another handing on returns at once).
    /// A thread hands on at most <see cref="HandOnBudget"/> messages: under a steady stream from other publishers it
    /// would otherwise never return to its own caller. What is left goes on on the thread pool.
    /// </summary>
    private void HandOn()
    {
        var listener = _listener!;
        while (Interlocked.CompareExchange(ref _handing, 1, 0) == 0)
        {
            var budget = HandOnBudget;
            try
            {
                while (budget > 0 && TakeNext() is { } message)
                {
                    try
                    {
                        listener.OnMessage(message);
                    }
                    finally
                    {
                        // Moved on even if the listener broke its promise not to throw: the message is out of the
                        // ring, and a cursor left behind it would stop every later message.
                        Volatile.Write(ref _handedThrough, message.Position!.Value.Offset);
                    }
                    budget--;
                }
            }
            finally
            {
                Volatile.Write(ref _handing, 0);
            }
            // A message may have entered after the last look and before the flag was released: look once more.
            if (Peek() is null)
            {
                return;
            }
            if (budget == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static engine => engine.HandOn(), this, preferLocal: false);
                return;
            }
        }
    }

    /// <summary>The next message in order if it has entered the ring and is wanted here; messages nobody wants are passed over.</summary>
    private EncodedMessage? TakeNext()
    {
        while (Peek() is { } message)
        {
            var offset = message.Position!.Value.Offset;
            var wanted = _wanted[offset & (RingSize - 1)];
            Volatile.Write(ref _ring[offset & (RingSize - 1)], null);
            Volatile.Write(ref _takenThrough, offset);
            if (wanted)
            {
                // Wanted when published: handed on even if withdrawn since (the contract allows more, never less).
                return message;
            }
            lock (_interestGate)
            {
                if (!_interest.Matches(message))
                {
                    Volatile.Write(ref _handedThrough, offset);
                    continue;
                }
            }
            return message;
        }
        return null;
    }

    private EncodedMessage? Peek()
    {
        var next = Volatile.Read(ref _handedThrough) + 1;
        var message = Volatile.Read(ref _ring[next & (RingSize - 1)]);
        return message?.Position?.Offset == next ? message : null;
    }

    private static string NewEpoch() =>
        new(System.Security.Cryptography.RandomNumberGenerator.GetItems<char>("abcdefghijklmnopqrstuvwxyz234567", 8));

    /// <summary>The channel names and patterns declared, each counted as often as declared.</summary>
    private sealed class InterestSet
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _keys = new(StringComparer.Ordinal);

        public void Add(string key) => _keys.AddOrUpdate(key, 1, static (_, count) => count + 1);

        public void Remove(string key)
        {
            while (_keys.TryGetValue(key, out var count))
            {
                if (count <= 1 ? _keys.TryRemove(new KeyValuePair<string, int>(key, count)) : _keys.TryUpdate(key, count - 1, count))
                {
                    return;
                }
            }
        }

        /// <summary>Whether a name or pattern matching the message's channel is declared (no allocation once the message's keys are known).</summary>
        public bool Matches(EncodedMessage message)
        {
            if (_keys.IsEmpty)
            {
                return false;
            }
            foreach (var key in message.MatchingKeys)
            {
                if (_keys.ContainsKey(key))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
