using Halley.Channels;
using Halley.Diagnostics;
using Halley.Protocol;

namespace Halley.Engine;

/// <summary>
/// This node's side of the engine contract: encodes each publish once and hands it to the <see cref="IMessageEngine"/>,
/// keeps the local subscribers of every name and pattern, declares to the engine the interest they need, fans what
/// the engine hands back out to them, and runs recovery above the contract (subscribe, hold live messages aside,
/// read history, merge by position, release).
/// </summary>
/// <remarks>
/// Positioned messages are fanned out one at a time under the hub's gate, in the engine's order; a subscription
/// enters the index under the same gate, where the hub also reads how far the node has got. So a subscription takes
/// effect at an exact position: it receives every message after it and none at or before it. A recovery reads the
/// history up to that position and releases the live messages held aside after the replay: no gap, no duplicate, no
/// reordering at the seam. The gate is the hub's own, never an engine lock, and no session code runs under it but
/// <see cref="ISubscriber.Deliver"/>. Messages of channels without history take no gate.
/// </remarks>
public sealed class MessageHub
{
    private readonly IMessageEngine _engine;
    private readonly SubscriptionIndex<ISubscriber> _index = new();
    private readonly HalleyMetrics _metrics;
    private readonly string[] _lazyChannels;
    private readonly int _maxRecovered;
    private readonly Lock _gate = new();
    // Serializes declarations and withdrawals of interest with the index changes that cause them, so a key is
    // declared to the engine whenever it has a local subscriber.
    private readonly SemaphoreSlim _interestTurn = new(1, 1);
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    // The last positioned message fanned out, under the gate. A position, not an offset: an engine whose history was
    // lost (Redis restarted without persistence) starts a new epoch whose offsets begin again, and an offset of the
    // old epoch must never be read as one of the new.
    private StreamPosition? _fannedOutThrough;
    private readonly Presence.IPresenceStore? _presence;

    [ThreadStatic]
    private static HashSet<ISubscriber>? t_seen;

    /// <summary>Creates the hub over <paramref name="engine"/> and starts the engine's delivery to it.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="metrics">The node's metrics.</param>
    /// <param name="options">The node's settings.</param>
    /// <param name="presence">Where subscriptions to exact channel names are recorded (<c>/api/presence</c>); none when null.</param>
    public MessageHub(IMessageEngine engine, HalleyMetrics metrics, Microsoft.Extensions.Options.IOptions<HalleyOptions> options, Presence.IPresenceStore? presence = null)
    {
        _engine = engine;
        _presence = presence;
        _metrics = metrics;
        _lazyChannels = [.. options.Value.LazyChannels];
        // Replayed messages wait in the subscriber's queue like live ones: more than it holds would overflow it
        // (an IRecoveringSubscriber also says how much of it is taken).
        _maxRecovered = Math.Min(options.Value.History.MaxRecoveredMessages, options.Value.MaxQueue);
        engine.Start(new Listener(this));
    }

    /// <summary>The engine this node runs on.</summary>
    public IMessageEngine Engine => _engine;

    /// <summary>Names the engine's history: it changes when the history is lost.</summary>
    public string Epoch => _engine.Epoch;

    /// <summary>Whether any channel keeps a history.</summary>
    public bool HasHistory => _engine.HasHistory;

    /// <summary>How far this node has got: every positioned message at or before it has been fanned out or passed over.</summary>
    public StreamPosition Top => _engine.Cursor;

    /// <summary>Number of distinct channel names and patterns with local subscribers.</summary>
    public int SubscribedKeyCount => _index.KeyCount;

    /// <summary>
    /// Publishes raw JSON <paramref name="dataJson"/> to the concrete broadcast <paramref name="channel"/>; the
    /// returned message carries the position the engine assigned, if the channel keeps history. Waits first while
    /// this node's deliveries are behind (<see cref="DeliveryLanes.MaxLag"/>), so a publisher is paced at what the node
    /// delivers.
    /// </summary>
    /// <param name="channel">A valid, non-wildcard broadcast channel.</param>
    /// <param name="dataJson">The <c>data</c> value as UTF-8 JSON.</param>
    /// <param name="idJson">The publisher's message id as a raw JSON token, or empty.</param>
    /// <param name="cancellationToken">Cancels waiting for the deliveries or the engine.</param>
    /// <param name="idempotencyKey">The publisher's idempotency key, or null (see <see cref="EncodedMessage.IdempotencyKey"/>).</param>
    public async ValueTask<EncodedMessage> PublishAsync(string channel, ReadOnlyMemory<byte> dataJson, ReadOnlyMemory<byte> idJson, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        // While the delivery lanes are behind, a publish waits for them before it adds to their backlog: a backend
        // publishing as fast as it can is paced at what the node delivers, instead of filling every queue.
        await DeliveryLanes.Shared.WhenCaughtUpAsync(cancellationToken).ConfigureAwait(false);
        var encoded = EncodedMessage.FromFrame(channel, BayeuxCodec.EncodeEventFrame(channel, dataJson.Span, idJson.Span));
        encoded.IdempotencyKey = idempotencyKey;
        _metrics.Published();
        await _engine.PublishAsync(encoded, cancellationToken).ConfigureAwait(false);
        return encoded;
    }

    /// <summary>Subscribes <paramref name="subscriber"/> to a channel name or pattern (assumed valid); false if it already was.</summary>
    public async ValueTask<bool> SubscribeAsync(string channelOrPattern, ISubscriber subscriber, CancellationToken cancellationToken = default)
    {
        var added = false;
        await AddAsync([channelOrPattern], subscriber, key => added = Add(key, subscriber), cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>
    /// Subscribes <paramref name="subscriber"/> to <paramref name="keys"/> (valid names or patterns it does not yet
    /// hold) and, given <paramref name="since"/>, first hands it the retained messages it missed on them, in order,
    /// with no gap or duplicate at the seam with the live messages that follow.
    /// </summary>
    /// <remarks>
    /// An <see cref="IRecoveringSubscriber"/> is asked what it already holds and how much room its queue has: a
    /// message it already received through a held subscription is not replayed, and a replay larger than the room is
    /// not made (the recovery is then not complete). While the history is read it holds live messages of the keys
    /// aside, and queues them after the replay. It is told from where the keys have every message. Any other
    /// subscriber is taken to hold nothing else, to have a queue of <see cref="HalleyOptions.MaxQueue"/>, and gets the
    /// replay when the read completes. A held channel's messages from before its subscription took effect are
    /// replayed only while it has received none after them; otherwise they could not arrive in order, and the
    /// recovery is not complete.
    /// </remarks>
    /// <param name="keys">The channel names and patterns to add.</param>
    /// <param name="subscriber">The subscriber.</param>
    /// <param name="since">The last position the client saw; null for a plain subscribe.</param>
    /// <param name="cancellationToken">Cancels waiting for the engine.</param>
    /// <returns>Whether the recovery was complete (false when nothing was asked), and the position the keys took effect at.</returns>
    public async ValueTask<Recovery> SubscribeAsync(IReadOnlyList<string> keys, ISubscriber subscriber, StreamPosition? since, CancellationToken cancellationToken = default)
    {
        var recovering = subscriber as IRecoveringSubscriber;
        List<HeldSubscription> held = [];
        var limit = _maxRecovered;
        if (since is not null && recovering is not null)
        {
            recovering.CopyHeldSubscriptions(held);
            limit = Math.Max(0, Math.Min(_maxRecovered, recovering.QueueRoom));
            recovering.BeginRecovery(keys);
        }
        StreamPosition tookEffect;
        try
        {
            tookEffect = await AddAsync(keys, subscriber, key => Add(key, subscriber), cancellationToken).ConfigureAwait(false);
        }
        catch when (since is not null && recovering is not null)
        {
            recovering.EndRecovery(keys, []);
            throw;
        }
        var recovered = false;
        IReadOnlyList<EncodedMessage> replay = [];
        try
        {
            if (since is { } position)
            {
                // A limit of 0 (a full queue) still recovers when there is nothing to replay.
                var read = await _engine.ReadHistoryAsync(
                    new HistoryQuery(keys, position, Math.Max(limit, 1)) { Held = held, Through = tookEffect, AllOrNothing = true },
                    cancellationToken).ConfigureAwait(false);
                recovered = read.Complete && !read.Truncated && read.Messages.Count <= limit;
                replay = recovered ? read.Messages : [];
            }
        }
        finally
        {
            // After a complete recovery the subscriber has every message of these keys' channels after the position
            // (replayed, or received through what it held); otherwise only those after the keys took effect. Said
            // before the release, so a recovery that follows counts these keys as held. Released even when the read
            // failed: what was held aside still goes out.
            recovering?.SubscriptionsTookEffect(keys, recovered ? since!.Value.Offset : tookEffect.Offset);
            if (since is not null)
            {
                if (recovering is not null)
                {
                    recovering.EndRecovery(keys, replay);
                }
                else
                {
                    foreach (var message in replay)
                    {
                        subscriber.Deliver(message);
                    }
                }
            }
        }
        return new Recovery(recovered, tookEffect);
    }

    /// <summary>Removes one subscription; the engine is told when the key has no local subscriber left.</summary>
    public bool Unsubscribe(string channelOrPattern, ISubscriber subscriber)
    {
        if (!_index.Remove(channelOrPattern, subscriber))
        {
            return false;
        }
        if (IsPresence(channelOrPattern, subscriber, out var member))
        {
            _presence!.Left(channelOrPattern, member);
        }
        if (_index.Get(channelOrPattern).Count == 0)
        {
            _ = WithdrawIfUnusedAsync(channelOrPattern);
        }
        return true;
    }

    /// <summary>
    /// Reads retained messages of the channels <paramref name="keys"/> match, after <paramref name="since"/> (from
    /// the oldest when null), at most <paramref name="limit"/>.
    /// </summary>
    /// <param name="keys">The channel names and patterns to read.</param>
    /// <param name="since">The last position the reader saw; null to read from the oldest retained message.</param>
    /// <param name="limit">Most messages in the page: 1 or more (a page of none could never move on, so 0 is refused).</param>
    /// <param name="cancellationToken">Cancels waiting for the engine.</param>
    /// <returns>The page; a position from another epoch (or beyond the top) reads nothing and is not complete.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    public async ValueTask<HistoryPage> ReadHistoryAsync(IReadOnlyList<string> keys, StreamPosition? since, int limit, CancellationToken cancellationToken = default)
    {
        if (limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "A history page holds at least one message: the limit must be 1 or more.");
        }
        var read = await _engine.ReadHistoryAsync(new HistoryQuery(keys, since, limit), cancellationToken).ConfigureAwait(false);
        return new HistoryPage(read.Messages, since is not null && read.Complete, read.Truncated, read.Through);
    }

    /// <summary>
    /// Reads every retained message after <paramref name="since"/> and through <paramref name="through"/> on the
    /// channels <paramref name="keys"/> match (bounded by the history rules); a position of another epoch reads nothing.
    /// </summary>
    public async ValueTask<IReadOnlyList<EncodedMessage>> ReadBetweenAsync(IReadOnlyList<string> keys, StreamPosition since, StreamPosition through, CancellationToken cancellationToken = default)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        var read = await _engine.ReadHistoryAsync(new HistoryQuery(keys, since, int.MaxValue) { Through = through }, cancellationToken).ConfigureAwait(false);
        return read.Messages;
    }

    /// <summary>One pass of the shared sweep: the engine lets go of history its rules no longer keep.</summary>
    public void Sweep() => _engine.Sweep();

    /// <summary>
    /// Declares the keys this node did not need yet, then adds them to the index under the gate, and returns the
    /// position they took effect at: the subscriber receives every message after it and none at or before it.
    /// </summary>
    private async ValueTask<StreamPosition> AddAsync(IReadOnlyList<string> keys, ISubscriber subscriber, Action<string> add, CancellationToken cancellationToken)
    {
        await _interestTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var key in keys)
            {
                if (_declared.Add(key))
                {
                    try
                    {
                        await _engine.DeclareInterestAsync(key, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        _declared.Remove(key);
                        throw;
                    }
                }
            }
            lock (_gate)
            {
                foreach (var key in keys)
                {
                    add(key);
                }
                // The engine's cursor moves after the hub fanned a message out, or when it passes over one nobody here
                // wanted; the hub's own mark covers a message fanned out whose cursor move is still to come.
                var cursor = _engine.Cursor;
                return _fannedOutThrough is { } fanned && fanned.Epoch == cursor.Epoch && fanned.Offset > cursor.Offset ? fanned : cursor;
            }
        }
        finally
        {
            _interestTurn.Release();
        }
    }

    /// <summary>Adds one subscription to the index, and to presence when it is a member's subscription to an exact name.</summary>
    private bool Add(string key, ISubscriber subscriber)
    {
        if (!_index.Add(key, subscriber))
        {
            return false;
        }
        if (IsPresence(key, subscriber, out var member))
        {
            _presence!.Joined(key, member);
        }
        return true;
    }

    /// <summary>Presence counts subscribers with an id (Bayeux sessions) on exact channel names, not patterns.</summary>
    private bool IsPresence(string key, ISubscriber subscriber, out string member)
    {
        member = subscriber.PresenceId!;
        return _presence is not null && member is not null && !key.EndsWith('*');
    }

    private async Task WithdrawIfUnusedAsync(string key)
    {
        await _interestTurn.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_index.Get(key).Count == 0 && _declared.Remove(key))
            {
                await _engine.WithdrawInterestAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Still declared as far as the engine knows: it may hand this node messages nobody here wants, which the
            // fan-out drops. Declared again on the next subscribe.
        }
        finally
        {
            _interestTurn.Release();
        }
    }

    private void OnMessage(EncodedMessage message)
    {
        // Per node, from its configuration, once per message: a message from another node is lazy here by this node's rules.
        message.IsLazy = IsLazy(message.Channel);
        if (message.Position is { } position)
        {
            lock (_gate)
            {
                FanOut(message);
                _fannedOutThrough = position;
            }
            return;
        }
        FanOut(message);
    }

    private void FanOut(EncodedMessage message)
    {
        var keys = message.MatchingKeys;
        SubscriberSnapshot<ISubscriber> only = default;
        var nonEmpty = 0;
        foreach (var key in keys)
        {
            var subscribers = _index.Get(key);
            if (subscribers.Count > 0)
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
            foreach (var subscriber in only)
            {
                subscriber.Deliver(message);
            }
            delivered = only.Count;
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

    /// <summary>Tells every subscriber of <paramref name="keys"/> that messages it should have had were lost (see <see cref="IEngineListener.OnMessagesLost"/>).</summary>
    private void OnMessagesLost(IReadOnlyList<string> keys)
    {
        var told = new HashSet<ISubscriber>(ReferenceEqualityComparer.Instance);
        foreach (var key in keys)
        {
            foreach (var subscriber in _index.Get(key))
            {
                if (told.Add(subscriber))
                {
                    subscriber.MessagesLost();
                }
            }
        }
        _metrics.MessagesLost(told.Count);
    }

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

    /// <summary>The hub as the engine sees it: the one way messages come back to this node.</summary>
    private sealed class Listener(MessageHub hub) : IEngineListener
    {
        public void OnMessage(EncodedMessage message) => hub.OnMessage(message);

        public void OnMessagesLost(IReadOnlyList<string> keys) => hub.OnMessagesLost(keys);
    }
}
