using Halley.Channels;
using Halley.Engine;
using Halley.Presence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Halley.Redis;

/// <summary>
/// Presence across the cluster: every node writes its members to Redis with an expiry and refreshes them, so any node
/// answers for all, and a crashed node's members disappear once their expiry passes (<see cref="RedisEngineOptions.PresenceTtl"/>).
/// </summary>
/// <remarks>
/// Keys, under the engine's prefix: <c>pr:{channel}</c> (sorted set: client id → when the entry expires, Unix ms) and
/// <c>pc</c> (sorted set: channel → when it expires). A join or leave is written at once (fire and forget, so the
/// subscribe path never waits for Redis); every third of the TTL the node writes all of its members again with a
/// new expiry. Reads count only entries whose expiry is ahead, and let go of the others.
/// </remarks>
public sealed partial class RedisPresenceStore : BackgroundService, IPresenceStore
{
    private readonly LocalPresenceStore _local = new();
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly RedisKey _channels;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the store over <paramref name="redis"/> with the engine's prefix and presence TTL.</summary>
    public RedisPresenceStore(IConnectionMultiplexer redis, IOptions<RedisEngineOptions> options, TimeProvider time, ILogger<RedisPresenceStore>? logger = null)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = options.Value.Prefix;
        _channels = _prefix + "pc";
        _ttl = options.Value.PresenceTtl;
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public void Joined(string channel, string member)
    {
        _local.Joined(channel, member);
        if (_redis.IsConnected)
        {
            var expires = ExpiresAt();
            _db.SortedSetAdd(MembersKey(channel), member, expires, CommandFlags.FireAndForget);
            _db.SortedSetAdd(_channels, channel, expires, CommandFlags.FireAndForget);
        }
    }

    /// <inheritdoc />
    public void Left(string channel, string member)
    {
        _local.Left(channel, member);
        if (_redis.IsConnected)
        {
            _db.SortedSetRemove(MembersKey(channel), member, CommandFlags.FireAndForget);
        }
    }

    /// <inheritdoc />
    public async ValueTask<PresenceList> MembersAsync(string channel, int limit, CancellationToken cancellationToken)
    {
        var now = Now();
        var key = MembersKey(channel);
        Unavailable();
        try
        {
            _ = _db.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, now, Exclude.None, CommandFlags.FireAndForget);
            var members = _db.SortedSetRangeByScoreAsync(key, now, double.PositiveInfinity, Exclude.Start, Order.Ascending, 0, limit);
            var count = _db.SortedSetLengthAsync(key, now, double.PositiveInfinity, Exclude.Start);
            await Task.WhenAll(members, count).WaitAsync(cancellationToken).ConfigureAwait(false);
            return new PresenceList([.. (await members.ConfigureAwait(false)).Select(m => (string)m!).Order(StringComparer.Ordinal)], await count.ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new EngineUnavailableException("Redis did not answer, so this node could not read presence.", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ChannelPresence>> ChannelsAsync(string? pattern, int limit, CancellationToken cancellationToken)
    {
        var now = Now();
        Unavailable();
        try
        {
            _ = _db.SortedSetRemoveRangeByScoreAsync(_channels, double.NegativeInfinity, now, Exclude.None, CommandFlags.FireAndForget);
            var listed = await _db.SortedSetRangeByScoreAsync(_channels, now, double.PositiveInfinity, Exclude.Start).WaitAsync(cancellationToken).ConfigureAwait(false);
            var channels = listed.Select(c => (string)c!).Where(c => pattern is null || ChannelName.Matches(pattern, c)).Order(StringComparer.Ordinal).ToList();
            var counts = channels.ConvertAll(c => _db.SortedSetLengthAsync(MembersKey(c), now, double.PositiveInfinity, Exclude.Start));
            await Task.WhenAll(counts).WaitAsync(cancellationToken).ConfigureAwait(false);
            // A channel stays listed until its entry expires; one whose members all left is not shown.
            return [.. channels.Select((c, i) => new ChannelPresence(c, counts[i].Result)).Where(c => c.Members > 0).Take(limit)];
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new EngineUnavailableException("Redis did not answer, so this node could not list channels.", ex);
        }
    }

    /// <summary>Writes every local member again with a new expiry, every third of the TTL, until the host stops.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_ttl / 3, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RefreshAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis is away: the entries expire meanwhile, and the next refresh after it returns writes them again.
                Log.RefreshFailed(_logger, ex);
            }
        }
    }

    /// <summary>One refresh: every local member and channel written again with a new expiry, in one batch.</summary>
    internal async Task RefreshAsync()
    {
        var snapshot = _local.Snapshot();
        if (snapshot.Count == 0 || !_redis.IsConnected)
        {
            return;
        }
        var expires = ExpiresAt();
        var batch = _db.CreateBatch();
        var writes = new List<Task>(snapshot.Count * 2);
        foreach (var (channel, members) in snapshot)
        {
            writes.Add(batch.SortedSetAddAsync(MembersKey(channel), [.. members.Select(m => new SortedSetEntry(m, expires))]));
            writes.Add(batch.SortedSetAddAsync(_channels, channel, expires));
        }
        batch.Execute();
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    private void Unavailable()
    {
        if (!_redis.IsConnected)
        {
            throw new EngineUnavailableException("Redis is not connected, so this node cannot read presence.");
        }
    }

    private double Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private double ExpiresAt() => (_time.GetUtcNow() + _ttl).ToUnixTimeMilliseconds();

    private RedisKey MembersKey(string channel) => _prefix + "pr:" + channel;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Refreshing this node's presence in Redis failed; it is tried again at the next period", EventName = "RedisPresenceRefreshFailed")]
        public static partial void RefreshFailed(ILogger logger, Exception exception);
    }
}
