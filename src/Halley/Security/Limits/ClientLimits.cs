using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.RateLimiting;
using Halley.Diagnostics;
using Halley.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security.Limits;

/// <summary>
/// The one place that decides whether a client may take more of the server (<see cref="LimitsOptions"/>): a session
/// (per node, per address, the address's handshake rate), a long-lived connection (per node, per address), a
/// publish (the session's rate), a batch's shape. Every refusal is counted in <c>halley.limits.exceeded{limit}</c>
/// under one of the <c>limit</c> names below. Rates use the framework's token buckets
/// (<see cref="PartitionedRateLimiter"/>), one partition per address or session, replenished by the partitioned
/// limiter's one shared timer and dropped once idle, so no client holds a timer of its own.
/// </summary>
internal sealed class ClientLimits : IDisposable
{
    /// <summary>The <c>limit</c> tag values of <c>halley.limits.exceeded</c>.</summary>
    public static class Names
    {
        public const string BodySize = "body_size";
        public const string BatchSize = "batch_size";
        public const string MessageSize = "message_size";
        public const string JsonDepth = "json_depth";
        public const string Subscriptions = "subscriptions";
        public const string StreamChannels = "stream_channels";
        public const string PublishRate = "publish_rate";
        public const string HandshakeRate = "handshake_rate";
        public const string SessionsPerAddress = "sessions_per_address";
        public const string SessionsPerNode = "sessions_per_node";
        public const string ConnectionsPerAddress = "connections_per_address";
        public const string ConnectionsPerNode = "connections_per_node";
        public const string MessageReadTime = "message_read_time";
        public const string InvalidUtf8 = "invalid_utf8";
    }

    public static readonly string TooManyHandshakes = BayeuxErrors.Format(429, "", "too_many_handshakes");
    public static readonly string TooManySessions = BayeuxErrors.Format(429, "", "too_many_sessions");
    public static readonly string ServerBusy = BayeuxErrors.Format(503, "", "server_busy");
    public static readonly string PublishRateExceeded = BayeuxErrors.Format(429, "", "publish_rate_exceeded");

    private readonly LimitsOptions _options;
    private readonly HalleyMetrics _metrics;
    private readonly AddressCounts _sessions = new();
    private readonly AddressCounts _connections = new();
    private readonly PartitionedRateLimiter<IPAddress> _handshakes;
    private readonly PartitionedRateLimiter<string> _publishes;
    private int _nodeSessions;
    private int _nodeConnections;

    public ClientLimits(IOptions<HalleyOptions> options, HalleyMetrics metrics)
    {
        _options = options.Value.Limits;
        _metrics = metrics;
        Batch = new BatchLimits(_options.MaxMessagesPerBatch, _options.MaxBayeuxMessageSize, _options.MaxJsonDepth);
        var handshakes = Bucket(_options.HandshakesPerSecondPerAddress, _options.HandshakeBurstPerAddress);
        _handshakes = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => handshakes));
        var publishes = Bucket(_options.PublishesPerSecondPerSession, _options.PublishBurstPerSession);
        _publishes = PartitionedRateLimiter.Create<string, string>(session => RateLimitPartition.GetTokenBucketLimiter(session, _ => publishes), StringComparer.Ordinal);
    }

    /// <summary>What the codec accepts in one batch.</summary>
    public BatchLimits Batch { get; }

    /// <summary>How long one WebSocket message may take to arrive once begun.</summary>
    public TimeSpan MessageReadTimeout => _options.MessageReadTimeout;

    /// <summary>Connections counted on this node now (tests and diagnostics).</summary>
    public int NodeConnections => Volatile.Read(ref _nodeConnections);

    /// <summary>The key <paramref name="address"/> is counted under by per-address limits; null when they do not apply to it.</summary>
    private IPAddress? KeyOf(IPAddress? address) =>
        address is null || (_options.ExemptLoopback && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address))
            ? null
            : ClientAddress.KeyOf(address);

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = Math.Max(burst, perSecond),
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        // The partitioned limiter replenishes every partition from its one timer.
        AutoReplenishment = false,
    };

    /// <summary>Counts a refusal under <paramref name="limit"/> (one of <see cref="Names"/>).</summary>
    public void Exceeded(string limit) => _metrics.LimitExceeded(limit);

    /// <summary>Counts a batch the codec refused as a whole when a limit refused it (not for malformed JSON).</summary>
    public void BatchRefused(BatchParseError error)
    {
        if (error == BatchParseError.TooManyMessages)
        {
            Exceeded(Names.BatchSize);
        }
        else if (error == BatchParseError.TooDeep)
        {
            Exceeded(Names.JsonDepth);
        }
        else if (error == BatchParseError.InvalidUtf8)
        {
            Exceeded(Names.InvalidUtf8);
        }
    }

    /// <summary>
    /// Admits a new session from <paramref name="address"/>, or says why not: the error and its advice (handshake
    /// again after a random wait). On success the session is counted until <see cref="SessionEnded"/>.
    /// </summary>
    public bool TryAdmitSession(IPAddress? address, out string? error, out Advice? advice)
    {
        var key = KeyOf(address);
        error = null;
        advice = null;
        if (Interlocked.Increment(ref _nodeSessions) > _options.MaxSessionsPerNode)
        {
            Interlocked.Decrement(ref _nodeSessions);
            return Refuse(Names.SessionsPerNode, ServerBusy, out error, out advice);
        }
        if (key is not null)
        {
            using var lease = _handshakes.AttemptAcquire(key);
            if (!lease.IsAcquired)
            {
                Interlocked.Decrement(ref _nodeSessions);
                return Refuse(Names.HandshakeRate, TooManyHandshakes, out error, out advice);
            }
        }
        if (!_sessions.TryAcquire(key, _options.MaxSessionsPerAddress))
        {
            Interlocked.Decrement(ref _nodeSessions);
            return Refuse(Names.SessionsPerAddress, TooManySessions, out error, out advice);
        }
        return true;
    }

    /// <summary>Gives back what <see cref="TryAdmitSession"/> took for a session that ended.</summary>
    public void SessionEnded(IPAddress? address)
    {
        Interlocked.Decrement(ref _nodeSessions);
        _sessions.Release(KeyOf(address));
    }

    /// <summary>Whether session <paramref name="sessionId"/> may publish once more now; a refusal is counted.</summary>
    public bool TryPublish(string sessionId)
    {
        using var lease = _publishes.AttemptAcquire(sessionId);
        if (lease.IsAcquired)
        {
            return true;
        }
        Exceeded(Names.PublishRate);
        return false;
    }

    /// <summary>
    /// Opens a long-lived connection (WebSocket, stream) for <paramref name="address"/>, or gives the HTTP status that
    /// refuses it: 503 when the node is full, 429 when the address is. Close it with <see cref="ConnectionClosed"/>.
    /// </summary>
    public bool TryOpenConnection(IPAddress? address, out int refusalStatus)
    {
        if (Interlocked.Increment(ref _nodeConnections) > _options.MaxConnectionsPerNode)
        {
            Interlocked.Decrement(ref _nodeConnections);
            Exceeded(Names.ConnectionsPerNode);
            refusalStatus = StatusCodes.Status503ServiceUnavailable;
            return false;
        }
        if (!_connections.TryAcquire(KeyOf(address), _options.MaxConnectionsPerAddress))
        {
            Interlocked.Decrement(ref _nodeConnections);
            Exceeded(Names.ConnectionsPerAddress);
            refusalStatus = StatusCodes.Status429TooManyRequests;
            return false;
        }
        refusalStatus = 0;
        return true;
    }

    /// <summary>Gives back what <see cref="TryOpenConnection"/> took.</summary>
    public void ConnectionClosed(IPAddress? address)
    {
        Interlocked.Decrement(ref _nodeConnections);
        _connections.Release(KeyOf(address));
    }

    /// <summary>
    /// Wraps an endpoint so that the requests <paramref name="isLongLived"/> picks (WebSocket upgrades, streams) hold
    /// a connection of their address and of the node while they run, and are refused with 429 or 503 (and a random
    /// <c>Retry-After</c>) when none is left. Other requests pass untouched.
    /// </summary>
    public RequestDelegate LimitConnections(RequestDelegate next, Func<HttpContext, bool> isLongLived) => async context =>
    {
        if (!isLongLived(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var address = context.Connection.RemoteIpAddress;
        if (!TryOpenConnection(address, out var status))
        {
            context.Response.StatusCode = status;
            context.Response.Headers.RetryAfter = RetryAfterSeconds().ToString(CultureInfo.InvariantCulture);
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(RefusalText(status), context.RequestAborted).ConfigureAwait(false);
            return;
        }
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            ConnectionClosed(address);
        }
    };

    /// <summary>The raw HTTP/1.1 response refusing a WebSocket upgrade taken below the HTTP layer.</summary>
    public byte[] RawRefusal(int status)
    {
        var body = Encoding.UTF8.GetBytes(RefusalText(status));
        var head = $"HTTP/1.1 {status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}\r\nRetry-After: {RetryAfterSeconds()}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }

    private static string RefusalText(int status) => status == StatusCodes.Status503ServiceUnavailable
        ? "Server busy: too many connections on this node (Halley:Limits:MaxConnectionsPerNode). Retry later."
        : "Too many connections from this address (Halley:Limits:MaxConnectionsPerAddress).";

    private bool Refuse(string limit, string reason, out string? error, out Advice? advice)
    {
        Exceeded(limit);
        error = reason;
        advice = new Advice { Reconnect = ReconnectAdvice.Handshake, Interval = (long)BackoffJitter().TotalMilliseconds };
        return false;
    }

    private long RetryAfterSeconds() => Math.Max(1, (long)Math.Ceiling(BackoffJitter().TotalSeconds));

    /// <summary>A random wait between the backoff bounds: clients refused together do not return together.</summary>
    private TimeSpan BackoffJitter()
    {
        var min = _options.BackoffMin;
        var max = _options.BackoffMax;
        return min + (max - min) * Random.Shared.NextDouble();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _handshakes.Dispose();
        _publishes.Dispose();
    }
}
