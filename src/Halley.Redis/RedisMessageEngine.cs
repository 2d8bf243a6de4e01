using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Halley.Channels;
using Halley.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StreamPosition = Halley.Engine.StreamPosition;

namespace Halley.Redis;

/// <summary>
/// The engine of a Halley cluster: positions, history and delivery between nodes through Redis (docs/clustering.md).
/// It keeps the <see cref="IMessageEngine"/> contract with every node sharing one Redis: a message published on any
/// node gets its position from the one sequence in Redis, is appended to its channel's stream and is delivered to
/// every node that declared interest in it, in one Lua script.
/// </summary>
/// <remarks>
/// <para><b>Publish.</b> One script per message (<see cref="RedisScripts.Publish"/>): it takes the epoch (a new one
/// when Redis lost the sequence, so positions are never handed out twice), increments the sequence, <c>XADD</c>s the
/// encoded message to the channel's stream with the explicit id <c>{offset}-0</c> and the rule's size, sets the
/// stream's expiry to the rule's age, and <c>PUBLISH</c>es the message to each interested node. Scripts run one at a
/// time in Redis, so the position, the append and the delivery are atomic, and every node's pub/sub connection
/// receives what it is sent in position order.</para>
/// <para><b>One channel per node, not one per Bayeux channel.</b> Each node subscribes to exactly one pub/sub channel,
/// <c>{prefix}node:{id}</c>, on StackExchange.Redis' subscription connection, and reads it through one
/// <see cref="ChannelMessageQueue"/>, one message at a time. Interest is kept in Redis instead: a set per channel name
/// or pattern holds the ids of the nodes that declared it, and the publish script sends the message to the union of
/// the sets of the names and patterns that match its channel (<see cref="ChannelName.MatchingKeys"/>: the channel, its
/// <c>/*</c>, each ancestor's <c>/**</c>; a few lookups whatever the number of patterns). So a node receives only what
/// its clients need, Bayeux' wildcards are matched exactly (Redis' glob <c>*</c> would cross <c>/</c>), a message that
/// matches an exact and a wildcard interest arrives once, and, above all, everything a node receives comes in one
/// ordered stream. Had the node subscribed one Redis channel (or pattern) per Bayeux channel, StackExchange.Redis
/// would hand each subscription its own queue, and messages of different channels, and a marker, could be processed
/// out of position order.</para>
/// <para><b>Cursor.</b> The cursor moves to each positioned message's offset once the listener has had it, and to the
/// sequence carried by a marker. <see cref="DeclareInterestAsync"/> runs <see cref="RedisScripts.Mark"/>, which adds the
/// node to the interest set, reads the sequence and publishes a marker carrying it to the node's own channel, all in
/// one atomic step: a publish before it has an offset at or below that sequence and, if it was for this node, was
/// published to the node's channel before the marker; a publish after it finds the node in the set. The declaration
/// completes only once the marker has been processed, in order, so by then every message at or below the cursor that
/// matches the interest has been handed and every later one will be: the contract's "once DeclareInterestAsync
/// completed, every message after Cursor matching the interest is handed". A publish whose message is not sent to
/// its own node sends that node a marker with its offset instead, so the publisher's cursor passes it.</para>
/// <para><b>History.</b> <see cref="ReadHistoryAsync"/> reads every matching stream in one script
/// (<see cref="RedisScripts.Read"/>): a snapshot, so the result is a consistent prefix through the sequence it read.
/// Completeness is judged as the in-memory engine judges it: a position of another epoch, a stream that let go of a
/// message after the position (by count or age), an expired stream whose newest message was after the position, or a
/// name or pattern with no rule covering it, make the read not complete. Age is measured on the publishing node's
/// <see cref="TimeProvider"/>, so nodes' clocks should agree (NTP).</para>
/// <para><b>Epoch.</b> Learned from Redis at start, from each publish reply, marker and read, and probed by the node's
/// sweep at most once a second (<see cref="Sweep"/>). When it changes (Redis lost its data: a restart without
/// persistence, a flush), the interest sets went with it, so the node declares its interest again; what was published
/// to its channels in between did not reach it live (a client resuming from a position of the old epoch is told
/// <c>recovered: false</c> anyway).</para>
/// </remarks>
public sealed partial class RedisMessageEngine : IMessageEngine, IAsyncDisposable
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    // Least time between two probes of the sweep (Environment.TickCount64 milliseconds: real time, whatever the TimeProvider).
    private const long ProbePeriodMs = 1000;

    // Most messages one history read hands while a gap is filled.
    private const int GapPageSize = 512;

    // How long a declaration waits for its marker before it fails: the subscription connection is down.
    private static readonly TimeSpan MarkerTimeout = TimeSpan.FromSeconds(30);

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly HistoryRules _rules;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly RedisKey _meta;
    private readonly RedisKey _channels;
    private readonly string _nodeChannels;
    private readonly string _nodeId;
    private readonly long _subscriptionTimeoutMs;
    private readonly TimeSpan _idempotencyWindow;
    private readonly Dictionary<string, int> _interest = new(StringComparer.Ordinal);
    // One declaration or withdrawal at a time, so the sets in Redis follow the order of the calls.
    private readonly SemaphoreSlim _interestTurn = new(1, 1);
    // Each pending declaration's marker: true once processed; false when a gap may have swallowed it (mark again).
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> _markers = new();
    // The keys of _interest, for the reader, which must not wait for _interestTurn (a declaration holds it while it
    // waits for the reader to process its marker). Replaced whole under _interestTurn.
    private volatile string[] _declaredKeys = [];
    // Only the reader touches these: the epoch and number of the last thing received on the node's channel.
    private string _deliveryEpoch = string.Empty;
    private long _lastDelivery;
    private long _gapsFilled;
    // When the reader last took something off the node's channel (Environment.TickCount64); the sweep's probe sends
    // a marker every second, so a long silence means the subscription no longer delivers.
    private long _receivedAt = Environment.TickCount64;
    private long _nextToken;
    private volatile Mark _cursor = new(string.Empty, 0);
    private volatile string _epoch = string.Empty;
    private IEngineListener? _listener;
    private ChannelMessageQueue? _queue;
    private Task? _receiving;
    private int _redeclaring;
    private long _probedAt = long.MinValue / 2;

    /// <summary>Creates the engine over <paramref name="redis"/> with the history rules of <paramref name="options"/>.</summary>
    public RedisMessageEngine(IConnectionMultiplexer redis, IOptions<HalleyOptions> options, IOptions<RedisEngineOptions> redisOptions, TimeProvider time, ILogger<RedisMessageEngine>? logger = null)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _rules = new HistoryRules(options.Value.History.Channels);
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _prefix = redisOptions.Value.Prefix;
        _meta = _prefix + "meta";
        _channels = _prefix + "channels";
        _nodeChannels = _prefix + "node:";
        _nodeId = NewId(16);
        _subscriptionTimeoutMs = (long)redisOptions.Value.SubscriptionTimeout.TotalMilliseconds;
        _idempotencyWindow = options.Value.Api.IdempotencyWindow;
    }

    /// <inheritdoc />
    public string Epoch => _epoch;

    /// <inheritdoc />
    public bool HasHistory => !_rules.IsEmpty;

    /// <inheritdoc />
    public StreamPosition Cursor
    {
        get
        {
            var cursor = _cursor;
            return new StreamPosition(cursor.Epoch, cursor.Offset);
        }
    }

    /// <summary>This node's id in Redis: its pub/sub channel is the prefix, <c>node:</c> and this id.</summary>
    public string NodeId => _nodeId;

    /// <summary>How many gaps in what the node's channel delivered were found (and filled from history as far as it reaches; tests: a gap really happened).</summary>
    internal long GapsFilled => Interlocked.Read(ref _gapsFilled);

    /// <inheritdoc />
    /// <remarks>Subscribes the node's channel and learns the epoch and sequence (blocking: once, at start).</remarks>
    public void Start(IEngineListener listener)
    {
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            throw new InvalidOperationException("The engine is already started.");
        }
        _queue = _redis.GetSubscriber().Subscribe(RedisChannel.Literal(_nodeChannels + _nodeId));
        _receiving = Task.Run(ReceiveAsync);
        // A new node has declared nothing, so no message up to the sequence is for it: the cursor starts there.
        var (epoch, seq) = ParseMark((RedisResult[])_db.ScriptEvaluate(RedisScripts.Mark, [_meta, _meta], MarkArguments(0, "none"))!);
        _epoch = epoch;
        _cursor = new Mark(epoch, seq);
    }

    /// <inheritdoc />
    public async ValueTask<StreamPosition?> PublishAsync(EncodedMessage message, CancellationToken cancellationToken)
    {
        _ = _listener ?? throw new InvalidOperationException("The engine is not started.");
        var channel = message.Channel;
        var rule = _rules.For(channel)?.Rule;
        var matching = ChannelName.MatchingKeys(channel);
        var idempotencyKey = message.IdempotencyKey;
        var keys = new RedisKey[4 + matching.Count];
        keys[0] = _meta;
        keys[1] = _channels;
        keys[2] = StreamKey(channel);
        keys[3] = idempotencyKey is null ? _meta : (RedisKey)(_prefix + "p:" + idempotencyKey);
        for (var i = 0; i < matching.Count; i++)
        {
            keys[4 + i] = InterestKey(matching[i]);
        }
        RedisValue[] values =
        [
            NewId(8), channel, message.Frame, rule?.Size ?? 0, Milliseconds(rule?.Ttl ?? TimeSpan.Zero),
            _time.GetUtcNow().ToUnixTimeMilliseconds(), _nodeChannels, _nodeId, idempotencyKey ?? string.Empty,
            Milliseconds(_idempotencyWindow), .. HighWaterMark(),
        ];
        var reply = (RedisResult[])(await Available(() => _db.ScriptEvaluateAsync(RedisScripts.Publish, keys, values), "publish", cancellationToken).ConfigureAwait(false))!;
        var epoch = (string)reply[0]!;
        var offset = (string?)reply[1];
        if (reply.Length > 2)
        {
            // The key was published before: its epoch may be an old one, which says nothing about Redis now.
            message.MarkDuplicateOf(string.IsNullOrEmpty(offset) ? null : new StreamPosition(epoch, long.Parse(offset, CultureInfo.InvariantCulture)));
            return message.Position;
        }
        NoteEpoch(epoch);
        if (string.IsNullOrEmpty(offset))
        {
            return null;
        }
        var position = new StreamPosition(epoch, long.Parse(offset, CultureInfo.InvariantCulture));
        message.AssignPosition(position);
        return position;
    }

    /// <inheritdoc />
    /// <remarks>Completes once Redis routes the interest's messages here and every earlier one has been handed (see the class remarks).</remarks>
    public async ValueTask DeclareInterestAsync(string channelOrPattern, CancellationToken cancellationToken)
    {
        await _interestTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _interest.TryGetValue(channelOrPattern, out var count);
            if (count == 0)
            {
                // Known to the reader first: a gap filled meanwhile covers this key too (the node may be handed more than it declared).
                _declaredKeys = [.. _declaredKeys, channelOrPattern];
                try
                {
                    await MarkAsync(channelOrPattern, "add", cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    _declaredKeys = [.. _interest.Keys];
                    throw;
                }
            }
            _interest[channelOrPattern] = count + 1;
        }
        finally
        {
            _interestTurn.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask WithdrawInterestAsync(string channelOrPattern, CancellationToken cancellationToken)
    {
        await _interestTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_interest.TryGetValue(channelOrPattern, out var count))
            {
                return;
            }
            if (count > 1)
            {
                _interest[channelOrPattern] = count - 1;
                return;
            }
            _interest.Remove(channelOrPattern);
            _declaredKeys = [.. _interest.Keys];
            // Nothing to wait for: messages routed here before the removal may still arrive, which the contract allows.
            await _db.ScriptEvaluateAsync(RedisScripts.Mark, [_meta, InterestKey(channelOrPattern)], MarkArguments(0, "remove"))
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _interestTurn.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<HistoryResult> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        if (query.Limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "A history page holds at least one message: the limit must be 1 or more.");
        }
        var covered = true;
        foreach (var key in query.Keys)
        {
            covered &= _rules.Covers(key);
        }
        for (var attempt = 0; ; attempt++)
        {
            var (channels, version) = await ChannelsAsync(query.Keys, cancellationToken).ConfigureAwait(false);
            var keys = new RedisKey[2 + channels.Count];
            keys[0] = _meta;
            keys[1] = _channels;
            var values = new RedisValue[7 + 3 * channels.Count];
            values[0] = query.Since?.Epoch ?? string.Empty;
            values[1] = query.Since?.Offset ?? 0;
            values[2] = query.Through?.Epoch ?? string.Empty;
            values[3] = query.Through?.Offset ?? 0;
            values[4] = (long)query.Limit + 1;
            values[5] = _time.GetUtcNow().ToUnixTimeMilliseconds();
            values[6] = version ?? string.Empty;
            for (var i = 0; i < channels.Count; i++)
            {
                var (channel, rule) = channels[i];
                keys[2 + i] = StreamKey(channel);
                values[7 + 3 * i] = channel;
                values[8 + 3 * i] = Milliseconds(rule.Ttl);
                var receivedAfter = HeldSubscription.EarliestReceivedAfter(query.Held, channel);
                values[9 + 3 * i] = receivedAfter == long.MaxValue ? -1 : receivedAfter;
            }
            var reply = (RedisResult[])(await Available(() => _db.ScriptEvaluateAsync(RedisScripts.Read, keys, values), "read history", cancellationToken).ConfigureAwait(false))!;
            switch ((string?)reply[0])
            {
                case "retry" when attempt < 10:
                    // A channel appeared (or went) between listing the channels and reading them: list them again.
                    continue;
                case "retry":
                    throw new InvalidOperationException("The history could not be read: the channel list kept changing.");
                case "none":
                    // Redis has no epoch: nothing was ever published there, or it lost everything since.
                    return new HistoryResult([], query.Since is null && covered, false, new StreamPosition(Epoch, 0));
            }
            return ToResult(query, reply, channels, covered);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Redis expires idle streams by itself, and a read lets go of messages past their age, so there is nothing to let
    /// go of here. The pass is used as a probe instead, at most once a second: a marker (<see cref="RedisScripts.Mark"/>)
    /// moves the cursor of a node that receives little, and its epoch tells a node that publishes and reads nothing
    /// that Redis lost its data, so it declares its interest again.
    /// </remarks>
    public void Sweep()
    {
        var now = Environment.TickCount64;
        var last = Volatile.Read(ref _probedAt);
        if (_listener is null || now - last < ProbePeriodMs || Interlocked.CompareExchange(ref _probedAt, now, last) != last)
        {
            return;
        }
        _ = ProbeAsync();
    }

    /// <summary>
    /// Null while the node can serve: Redis is connected and the node's channel delivered something (at least the
    /// sweep's probe marker) within <see cref="RedisEngineOptions.SubscriptionTimeout"/>; otherwise why not.
    /// </summary>
    public string? Readiness()
    {
        if (_listener is null)
        {
            return "The engine has not started.";
        }
        if (!_redis.IsConnected)
        {
            return "Redis is not connected.";
        }
        var silent = Environment.TickCount64 - Volatile.Read(ref _receivedAt);
        return silent > _subscriptionTimeoutMs
            ? $"This node's Redis subscription has delivered nothing for {silent / 1000.0:0.#} s, although the sweep probes it every second."
            : null;
    }

    /// <summary>Withdraws this node's interest from Redis and stops receiving.</summary>
    public async ValueTask DisposeAsync()
    {
        string[] declared;
        await _interestTurn.WaitAsync().ConfigureAwait(false);
        try
        {
            declared = [.. _interest.Keys];
            _interest.Clear();
            _declaredKeys = [];
        }
        finally
        {
            _interestTurn.Release();
        }
        try
        {
            foreach (var key in declared)
            {
                await _db.SetRemoveAsync(InterestKey(key), _nodeId).ConfigureAwait(false);
            }
            await _db.HashDeleteAsync(_meta, "n:" + _nodeId).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Redis is gone: nothing routes here any more either way.
        }
        if (_queue is { } queue)
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        if (_receiving is { } receiving)
        {
            await receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private HistoryResult ToResult(HistoryQuery query, RedisResult[] reply, List<(string Channel, HistoryRule Rule)> channels, bool covered)
    {
        var epoch = (string)reply[1]!;
        NoteEpoch(epoch);
        var through = (long)reply[2];
        var complete = covered && (long)reply[3] == 1;
        var entries = new List<(long Offset, int Stream, byte[] Frame)>((reply.Length - 4) / 3);
        for (var i = 4; i + 2 < reply.Length; i += 3)
        {
            entries.Add(((long)reply[i + 1], (int)reply[i] - 1, (byte[])reply[i + 2]!));
        }
        // Each stream is in offset order; several interleave. Offsets are unique, so the sort is exact.
        entries.Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
        var truncated = entries.Count > query.Limit;
        if (query.AllOrNothing && (truncated || !complete))
        {
            entries.Clear();
        }
        else if (truncated)
        {
            entries.RemoveRange(query.Limit, entries.Count - query.Limit);
        }
        var messages = entries.ConvertAll(e =>
        {
            var message = EncodedMessage.FromFrame(channels[e.Stream].Channel, e.Frame);
            message.AssignPosition(new StreamPosition(epoch, e.Offset));
            return message;
        });
        var last = truncated && entries.Count > 0 ? entries[^1].Offset : through;
        return new HistoryResult(messages, complete, truncated, new StreamPosition(epoch, last));
    }

    /// <summary>
    /// The channels with history the keys reach: each name with a rule, and each channel of the channel list a pattern
    /// matches; with the list's version when patterns were matched against it (the read script checks it).
    /// </summary>
    private async Task<(List<(string Channel, HistoryRule Rule)> Channels, string? Version)> ChannelsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var found = new List<(string, HistoryRule)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var patterns = false;
        foreach (var key in keys)
        {
            if (key.EndsWith('*'))
            {
                patterns = true;
            }
            else if (_rules.For(key) is { } rule && seen.Add(key))
            {
                found.Add((key, rule.Rule));
            }
        }
        if (!patterns)
        {
            return (found, null);
        }
        var reply = (RedisResult[])(await Available(() => _db.ScriptEvaluateAsync(RedisScripts.Channels, [_meta, _channels]), "list channels", cancellationToken).ConfigureAwait(false))!;
        foreach (var listed in (RedisResult[])reply[1]!)
        {
            var channel = (string)listed!;
            if (!seen.Contains(channel) && _rules.For(channel) is { } rule && ChannelName.MatchesAny(keys, channel))
            {
                seen.Add(channel);
                found.Add((channel, rule.Rule));
            }
        }
        return (found, (string)reply[0]!);
    }

    /// <summary>
    /// Runs <see cref="RedisScripts.Mark"/> for a declaration and waits until its marker has been processed; marks
    /// again when a gap on the node's channel may have swallowed the marker (the set operations are idempotent).
    /// </summary>
    private async Task MarkAsync(string key, string action, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)MarkerTimeout.TotalMilliseconds;
        while (true)
        {
            var token = Interlocked.Increment(ref _nextToken);
            var processed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _markers[token] = processed;
            try
            {
                var reply = (RedisResult[])(await Available(() => _db.ScriptEvaluateAsync(RedisScripts.Mark, [_meta, InterestKey(key)], MarkArguments(token, action)),
                    "declare interest", cancellationToken).ConfigureAwait(false))!;
                NoteEpoch(ParseMark(reply).Epoch);
                var left = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
                if (await processed.Task.WaitAsync(left, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (TimeoutException ex)
            {
                throw new EngineUnavailableException($"Redis did not deliver this node's marker within {MarkerTimeout.TotalSeconds} s: its subscription connection is down.", ex);
            }
            finally
            {
                _markers.TryRemove(token, out _);
            }
        }
    }

    private async Task ProbeAsync()
    {
        try
        {
            var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisScripts.Mark, [_meta, _meta], MarkArguments(0, "none")).ConfigureAwait(false))!;
            NoteEpoch(ParseMark(reply).Epoch);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.ProbeFailed(_logger, ex);
        }
    }

    /// <summary>
    /// Awaits a command, failing at once with <see cref="EngineUnavailableException"/> while no connection to Redis is
    /// up (rather than after StackExchange.Redis' timeout), and when the command fails for want of Redis.
    /// </summary>
    private async Task<T> Available<T>(Func<Task<T>> command, string what, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            // Checked before the command is issued: StackExchange.Redis would hold it and send it on reconnect, after
            // the caller was told it failed (a publish then retried would be doubled).
            throw new EngineUnavailableException($"Redis is not connected, so this node cannot {what}.");
        }
        try
        {
            return await command().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new EngineUnavailableException($"Redis did not answer, so this node could not {what} (a publish may still have been applied).", ex);
        }
    }

    private RedisValue[] MarkArguments(long token, string action) => [NewId(8), _nodeChannels, _nodeId, token, action, .. HighWaterMark()];

    /// <summary>The last two arguments of every script that writes: the cursor, the highest position this node knows Redis handed out.</summary>
    private RedisValue[] HighWaterMark()
    {
        var cursor = _cursor;
        return [cursor.Epoch, cursor.Offset];
    }

    private static (string Epoch, long Seq) ParseMark(RedisResult[] reply) => ((string)reply[0]!, (long)reply[1]);

    /// <summary>
    /// Reads the node's channel, one message at a time, in the order Redis sent them. A gap in the node's delivery
    /// numbers is filled from history before the message after it is handed.
    /// </summary>
    private async Task ReceiveAsync()
    {
        var queue = _queue!;
        try
        {
            while (true)
            {
                var received = await queue.ReadAsync().ConfigureAwait(false);
                Volatile.Write(ref _receivedAt, Environment.TickCount64);
                try
                {
                    var payload = (byte[])received.Message!;
                    if (FollowsGap(payload))
                    {
                        await FillGapAsync().ConfigureAwait(false);
                    }
                    OnReceived(payload);
                }
                catch (Exception ex)
                {
                    // One bad payload must not stop the node's only reader: it is logged and dropped.
                    Log.Unreadable(_logger, ex);
                }
            }
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // Unsubscribed: the engine is being disposed.
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Takes the delivery number of <paramref name="payload"/> and says whether something published to this node
    /// before it never arrived. A new epoch starts the numbers again (the loss, if any, is told by <see cref="NoteEpoch"/>).
    /// </summary>
    private bool FollowsGap(byte[] payload)
    {
        ReadOnlySpan<byte> rest = payload.AsSpan(1);
        var epoch = Encoding.ASCII.GetString(Next(ref rest));
        var number = ParseLong(Next(ref rest));
        var gap = epoch == _deliveryEpoch && number > _lastDelivery + 1;
        _deliveryEpoch = epoch;
        _lastDelivery = number;
        return gap;
    }

    /// <summary>
    /// Hands, in order, every retained message after the cursor of the channels this node declared, as Redis holds
    /// them now; tells the listener when history could not cover the gap; and has every declaration still waiting
    /// for its marker mark again, since the gap may have swallowed it.
    /// </summary>
    private async Task FillGapAsync()
    {
        var keys = _declaredKeys;
        Log.GapDetected(_logger, keys.Length);
        // Counted before anything is handed, so whoever sees the gap's messages also sees the count.
        Interlocked.Increment(ref _gapsFilled);
        var lost = false;
        try
        {
            var cursor = _cursor;
            StreamPosition? since = new StreamPosition(cursor.Epoch, cursor.Offset);
            var covered = keys.Where(_rules.Covers).ToArray();
            lost = covered.Length < keys.Length;
            while (covered.Length > 0)
            {
                var page = await ReadHistoryAsync(new HistoryQuery(covered, since, GapPageSize), CancellationToken.None).ConfigureAwait(false);
                foreach (var message in page.Messages)
                {
                    var position = message.Position!.Value;
                    var now = _cursor;
                    if (now.Epoch != position.Epoch || position.Offset > now.Offset)
                    {
                        Hand(message);
                        MoveCursor(position.Epoch, position.Offset);
                    }
                }
                lost |= !page.Complete;
                if (!page.Truncated)
                {
                    break;
                }
                since = page.Through;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            Log.GapFillFailed(_logger, ex);
            lost = true;
        }
        foreach (var pending in _markers.Values)
        {
            pending.TrySetResult(false);
        }
        if (lost && keys.Length > 0)
        {
            _listener!.OnMessagesLost(keys);
        }
    }

    private void OnReceived(byte[] payload)
    {
        // m{epoch} {n} {offset or nothing} {channel byte length} {channel}{frame}, or k{epoch} {n} {seq} {token or nothing}.
        ReadOnlySpan<byte> rest = payload.AsSpan(1);
        var epoch = Encoding.ASCII.GetString(Next(ref rest));
        Next(ref rest);
        var offsetText = Next(ref rest);
        if (payload[0] == (byte)'k')
        {
            var seq = ParseLong(offsetText);
            MoveCursor(epoch, seq);
            if (rest.Length > 0 && _markers.TryGetValue(ParseLong(rest), out var processed))
            {
                processed.TrySetResult(true);
            }
            return;
        }
        if (payload[0] != (byte)'m')
        {
            throw new FormatException("Not a message of this engine.");
        }
        var channelLength = (int)ParseLong(Next(ref rest));
        var channel = Encoding.UTF8.GetString(rest[..channelLength]);
        var message = EncodedMessage.FromFrame(channel, rest[channelLength..].ToArray());
        if (offsetText.IsEmpty)
        {
            Hand(message);
            return;
        }
        var offset = ParseLong(offsetText);
        var cursor = _cursor;
        if (cursor.Epoch == epoch && offset <= cursor.Offset)
        {
            return; // already handed or passed over
        }
        message.AssignPosition(new StreamPosition(epoch, offset));
        try
        {
            Hand(message);
        }
        finally
        {
            MoveCursor(epoch, offset);
        }
    }

    private void Hand(EncodedMessage message)
    {
        try
        {
            _listener!.OnMessage(message);
        }
        catch (Exception ex)
        {
            // The listener promised not to throw; the next message must still go out.
            Log.ListenerFailed(_logger, message.Channel, ex);
        }
    }

    private void MoveCursor(string epoch, long offset)
    {
        var cursor = _cursor;
        if (cursor.Epoch != epoch)
        {
            NoteEpoch(epoch);
            _cursor = new Mark(epoch, offset);
        }
        else if (offset > cursor.Offset)
        {
            _cursor = new Mark(epoch, offset);
        }
    }

    /// <summary>Takes a new epoch from Redis; when it changed, Redis lost the interest sets too, so they are declared again.</summary>
    private void NoteEpoch(string epoch)
    {
        var known = _epoch;
        if (known == epoch)
        {
            return;
        }
        _epoch = epoch;
        if (known.Length > 0 && Interlocked.Exchange(ref _redeclaring, 1) == 0)
        {
            _ = RedeclareAsync();
        }
    }

    /// <summary>
    /// Declares every interest again in a Redis that lost its data, then tells the listener that messages of all of
    /// them may have been lost: what was published between the loss and the new declarations reached no node.
    /// </summary>
    private async Task RedeclareAsync()
    {
        string[] keys = [];
        try
        {
            await _interestTurn.WaitAsync().ConfigureAwait(false);
            try
            {
                Volatile.Write(ref _redeclaring, 0);
                keys = [.. _interest.Keys];
                foreach (var key in keys)
                {
                    await MarkAsync(key, "add", CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                _interestTurn.Release();
            }
        }
        catch (Exception ex)
        {
            Log.RedeclareFailed(_logger, ex);
        }
        if (keys.Length > 0)
        {
            _listener!.OnMessagesLost(keys);
        }
    }

    private static ReadOnlySpan<byte> Next(ref ReadOnlySpan<byte> rest)
    {
        var space = rest.IndexOf((byte)' ');
        if (space < 0)
        {
            throw new FormatException("A field of a message of this engine is missing.");
        }
        var field = rest[..space];
        rest = rest[(space + 1)..];
        return field;
    }

    private static long ParseLong(ReadOnlySpan<byte> text) =>
        long.Parse(Encoding.ASCII.GetString(text), NumberStyles.None, CultureInfo.InvariantCulture);

    private RedisKey StreamKey(string channel) => _prefix + "s:" + channel;

    private RedisKey InterestKey(string channelOrPattern) => _prefix + "i:" + channelOrPattern;

    private static long Milliseconds(TimeSpan duration) => Math.Max(1, (long)duration.TotalMilliseconds);

    private static string NewId(int length) => new(System.Security.Cryptography.RandomNumberGenerator.GetItems<char>(Alphabet, length));

    /// <summary>An epoch and an offset read and written together.</summary>
    private sealed record Mark(string Epoch, long Offset);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "A message on this node's Redis channel could not be read; it is dropped", EventName = "RedisUnreadableMessage")]
        public static partial void Unreadable(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "The node's listener failed on a message of {Channel}", EventName = "RedisListenerFailed")]
        public static partial void ListenerFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(4, LogLevel.Warning, "Probing Redis from the sweep failed", EventName = "RedisProbeFailed")]
        public static partial void ProbeFailed(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Messages published to this node's Redis channel never arrived (its subscription dropped); filling the gap from the history of {Keys} declared names and patterns", EventName = "RedisGapDetected")]
        public static partial void GapDetected(ILogger logger, int keys);

        [LoggerMessage(6, LogLevel.Error, "Filling a gap on this node's Redis channel from history failed; the subscribers are told what was lost", EventName = "RedisGapFillFailed")]
        public static partial void GapFillFailed(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Error, "Redis lost its data (a new epoch) and declaring this node's interest again failed", EventName = "RedisRedeclareFailed")]
        public static partial void RedeclareFailed(ILogger logger, Exception exception);
    }
}
