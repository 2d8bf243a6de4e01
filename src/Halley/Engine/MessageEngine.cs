using Halley.Channels;
using Halley.Diagnostics;
using Halley.Protocol;

namespace Halley.Engine;

/// <summary>
/// The publish pipeline: encode once, hand the bytes to the broker, and on every node fan the same bytes out
/// to the local subscribers whose names or patterns match. Messages of channels with a history rule also get a
/// position and are kept (docs/recovery.md).
/// </summary>
/// <remarks>
/// Positions come from one sequence per engine, assigned under the sequencer lock together with the history
/// append and the local fan-out. So every subscriber receives history messages in offset order, and a recovery
/// (history read plus subscribe, under the same lock) has no seam where a message could be missed or doubled.
/// Messages of channels without history take no lock. The in-memory broker delivers on the publisher's thread,
/// so this node's sequence is the only one; a multi-node broker must carry the positions instead.
/// </remarks>
public sealed class MessageEngine
{
    private readonly IBroker _broker;
    private readonly SubscriptionIndex<ISubscriber> _index = new();
    private readonly HalleyMetrics _metrics;
    private readonly string[] _lazyChannels;
    private readonly HistoryStore _history;
    private readonly int _maxRecovered;
    private readonly Lock _sequencer = new();
    private long _offset;

    [ThreadStatic]
    private static HashSet<ISubscriber>? t_seen;

    /// <summary>Creates the engine over <paramref name="broker"/>.</summary>
    public MessageEngine(IBroker broker, HalleyMetrics metrics, Microsoft.Extensions.Options.IOptions<HalleyOptions> options, TimeProvider time)
    {
        _broker = broker;
        _metrics = metrics;
        _lazyChannels = [.. options.Value.LazyChannels];
        _history = new HistoryStore(new HistoryRules(options.Value.History.Channels), time);
        // Replayed messages wait in the subscriber's queue like live ones: more than it holds would overflow it
        // (an IRecoveringSubscriber also says how much of it is taken).
        _maxRecovered = Math.Min(options.Value.History.MaxRecoveredMessages, options.Value.MaxQueue);
        Epoch = NewEpoch();
        _broker.SetHandler(DeliverLocally);
    }

    /// <summary>Names this engine's history: it changes when the history is lost, e.g. when the process restarts.</summary>
    public string Epoch { get; }

    /// <summary>Whether any channel keeps a history.</summary>
    public bool HasHistory => _history.IsEnabled;

    /// <summary>The position of the last message given a position so far (offset 0 before the first).</summary>
    public StreamPosition Top => new(Epoch, Volatile.Read(ref _offset));

    /// <summary>Channels with retained messages, and the number of those messages.</summary>
    public (int Channels, long Messages) HistorySize
    {
        get { lock (_sequencer) { return (_history.ChannelCount, _history.MessageCount); } }
    }

    /// <summary>Number of distinct channel names and patterns with local subscribers.</summary>
    public int SubscribedKeyCount => _index.KeyCount;

    /// <summary>Subscribes <paramref name="subscriber"/> to a channel name or pattern (assumed valid).</summary>
    public bool Subscribe(string channelOrPattern, ISubscriber subscriber) => _index.Add(channelOrPattern, subscriber);

    /// <summary>Removes one subscription.</summary>
    public bool Unsubscribe(string channelOrPattern, ISubscriber subscriber) => _index.Remove(channelOrPattern, subscriber);

    /// <summary>
    /// Publishes raw JSON <paramref name="dataJson"/> to the concrete broadcast <paramref name="channel"/>.
    /// </summary>
    /// <param name="channel">A valid, non-wildcard broadcast channel.</param>
    /// <param name="dataJson">The <c>data</c> value as UTF-8 JSON.</param>
    /// <param name="idJson">The publisher's message id as a raw JSON token, or empty.</param>
    /// <param name="cancellationToken">Cancels waiting for the broker.</param>
    public async ValueTask<EncodedMessage> PublishAsync(string channel, ReadOnlyMemory<byte> dataJson, ReadOnlyMemory<byte> idJson, CancellationToken cancellationToken)
    {
        var encoded = EncodedMessage.FromFrame(channel, BayeuxCodec.EncodeEventFrame(channel, dataJson.Span, idJson.Span));
        _metrics.Published();
        await _broker.PublishAsync(encoded, cancellationToken).ConfigureAwait(false);
        return encoded;
    }

    /// <summary>
    /// Subscribes <paramref name="subscriber"/> to <paramref name="keys"/> (valid names or patterns it does not yet
    /// hold) and, given <paramref name="since"/>, first hands it the retained messages it missed on them, in
    /// order, with no gap or duplicate at the seam with the live messages that follow.
    /// </summary>
    /// <remarks>
    /// An <see cref="IRecoveringSubscriber"/> is asked, under the sequencer lock, what it already holds and how much
    /// room its queue has: a message it already received through a held subscription is not replayed, and a replay
    /// larger than the room is not made (the recovery is then not complete). It is told what the keys received.
    /// Any other subscriber is taken to hold nothing else and to have a queue of <see cref="HalleyOptions.MaxQueue"/>.
    /// A held channel's messages from before its subscription took effect are replayed only while it has received
    /// none after them; otherwise they could not arrive in order, and the recovery is not complete.
    /// </remarks>
    /// <param name="keys">The channel names and patterns to add.</param>
    /// <param name="subscriber">The subscriber.</param>
    /// <param name="since">The last position the client saw; null for a plain subscribe.</param>
    /// <returns>Whether the recovery was complete (false when nothing was asked), and the position it is at now.</returns>
    public Recovery Subscribe(IReadOnlyList<string> keys, ISubscriber subscriber, StreamPosition? since)
    {
        var recovering = subscriber as IRecoveringSubscriber;
        lock (_sequencer)
        {
            var recovered = false;
            if (since is { } position && position.Epoch == Epoch && position.Offset <= _offset)
            {
                List<HeldSubscription> held = [];
                recovering?.CopyHeldSubscriptions(held);
                // The replay waits in the same bounded queue as what is already there: more would overflow it.
                var limit = recovering is null ? _maxRecovered : Math.Max(0, Math.Min(_maxRecovered, recovering.QueueRoom));
                var read = _history.Read(keys, held, position.Offset, limit, allOrNothing: true);
                foreach (var entry in read.Entries)
                {
                    subscriber.Deliver(entry.Message);
                }
                recovered = read.Complete && !read.Truncated;
            }
            foreach (var key in keys)
            {
                _index.Add(key, subscriber);
            }
            // After a complete recovery the subscriber has every message of these keys' channels after the
            // position (replayed, or received through what it held); otherwise only those from now on.
            recovering?.SubscriptionsTookEffect(keys, recovered ? since!.Value.Offset : _offset);
            return new Recovery(recovered, new StreamPosition(Epoch, _offset));
        }
    }

    /// <summary>
    /// Reads retained messages of the channels <paramref name="keys"/> match, after <paramref name="since"/> (from
    /// the oldest when null), at most <paramref name="limit"/>.
    /// </summary>
    /// <param name="keys">The channel names and patterns to read.</param>
    /// <param name="since">The last position the reader saw; null to read from the oldest retained message.</param>
    /// <param name="limit">Most messages in the page: 1 or more (a page of none could never move on, so 0 is refused).</param>
    /// <returns>The page; a position from another epoch (or beyond the top) reads nothing and is not complete.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    public HistoryPage ReadHistory(IReadOnlyList<string> keys, StreamPosition? since, int limit)
    {
        if (limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "A history page holds at least one message: the limit must be 1 or more.");
        }
        lock (_sequencer)
        {
            if (since is { } position && (position.Epoch != Epoch || position.Offset > _offset))
            {
                return new HistoryPage([], false, false, new StreamPosition(Epoch, _offset));
            }
            var read = _history.Read(keys, [], since?.Offset ?? 0, limit, allOrNothing: false);
            var next = read.Truncated ? read.Entries[^1].Offset : _offset;
            return new HistoryPage(read.Entries.ConvertAll(e => e.Message), since is not null && read.Complete, read.Truncated, new StreamPosition(Epoch, next));
        }
    }

    /// <summary>
    /// Reads the retained messages after <paramref name="since"/> on the channels <paramref name="keys"/> match and
    /// hands them to <paramref name="apply"/>, all under the sequencer lock: no message is fanned out in between, so
    /// what <paramref name="apply"/> does with them has no seam with live messages. A position from another epoch
    /// reads nothing. Every retained message is read (bounded by the history rules): <paramref name="apply"/> keeps
    /// what it needs, which may be the newest.
    /// </summary>
    public T WithHistoryAfter<T>(IReadOnlyList<string> keys, StreamPosition since, Func<IReadOnlyList<EncodedMessage>, T> apply)
    {
        lock (_sequencer)
        {
            if (since.Epoch != Epoch || keys.Count == 0)
            {
                return apply([]);
            }
            var read = _history.Read(keys, [], since.Offset, int.MaxValue, allOrNothing: false);
            return apply(read.Entries.ConvertAll(e => e.Message));
        }
    }

    /// <summary>Lets go of history older than its rules allow; run by the shared sweep.</summary>
    public void ExpireHistory()
    {
        if (_history.IsEnabled)
        {
            lock (_sequencer)
            {
                _history.Expire();
            }
        }
    }

    private void DeliverLocally(EncodedMessage message)
    {
        if (_history.IsEnabled && _history.RuleFor(message.Channel) is { } rule)
        {
            lock (_sequencer)
            {
                var offset = ++_offset;
                message.AssignPosition(new StreamPosition(Epoch, offset));
                _history.Append(message.Channel, rule, offset, message);
                FanOut(message);
            }
            return;
        }
        FanOut(message);
    }

    private void FanOut(EncodedMessage message)
    {
        message.IsLazy = IsLazy(message.Channel);
        var keys = ChannelName.MatchingKeys(message.Channel);
        ISubscriber[]? only = null;
        var nonEmpty = 0;
        foreach (var key in keys)
        {
            var subscribers = _index.Get(key);
            if (subscribers.Length > 0)
            {
                only = subscribers;
                nonEmpty++;
            }
        }
        if (nonEmpty == 0)
        {
            return;
        }
        var delivered = 0;
        if (nonEmpty == 1)
        {
            // The common case: one name or pattern matches, so no subscriber can appear twice.
            foreach (var subscriber in only!)
            {
                subscriber.Deliver(message);
            }
            delivered = only.Length;
        }
        else
        {
            // A client subscribed to both /a/b and /a/** still receives the message once. The set is reused
            // per thread (taken out while in use), so a steady fan-out allocates nothing per subscriber.
            var seen = t_seen ?? new HashSet<ISubscriber>(ReferenceEqualityComparer.Instance);
            t_seen = null;
            try
            {
                foreach (var key in keys)
                {
                    foreach (var subscriber in _index.Get(key))
                    {
                        if (seen.Add(subscriber))
                        {
                            subscriber.Deliver(message);
                            delivered++;
                        }
                    }
                }
            }
            finally
            {
                seen.Clear();
                t_seen = seen;
            }
        }
        _metrics.Delivered(delivered);
    }

    private static string NewEpoch() =>
        new(System.Security.Cryptography.RandomNumberGenerator.GetItems<char>("abcdefghijklmnopqrstuvwxyz234567", 8));

    private bool IsLazy(string channel)
    {
        foreach (var pattern in _lazyChannels)
        {
            if (ChannelName.Matches(pattern, channel))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The outcome of <see cref="MessageEngine.Subscribe(IReadOnlyList{string}, ISubscriber, StreamPosition?)"/>.</summary>
/// <param name="Recovered">True when every missed message was replayed; false when a position was not asked for, was from another epoch, fell outside retention, or the replay would not fit (the recovery limit, the room left in the subscriber's queue).</param>
/// <param name="Position">The engine's position at the moment the subscription took effect: the client is up to date to here.</param>
public readonly record struct Recovery(bool Recovered, StreamPosition Position);

/// <summary>The outcome of <see cref="MessageEngine.ReadHistory"/>.</summary>
/// <param name="Messages">The retained messages, oldest first.</param>
/// <param name="Complete">Whether no message after the position asked for is lost (false when none was given).</param>
/// <param name="More">Whether more messages follow than the limit allowed.</param>
/// <param name="Next">Where to read on from: the last message's position when there are more, else the top.</param>
public sealed record HistoryPage(IReadOnlyList<EncodedMessage> Messages, bool Complete, bool More, StreamPosition Next);
