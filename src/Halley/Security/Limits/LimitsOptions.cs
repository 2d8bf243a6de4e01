namespace Halley.Security.Limits;

/// <summary>
/// What one client may cost the server (<c>Halley:Limits</c>). Each limit answers with a Bayeux error or an HTTP
/// status, never a crash or a dropped connection of anyone else, and is counted in
/// <c>halley.limits.exceeded{limit}</c>. The body and WebSocket message size (<c>Halley:MaxMessageSize</c>), the
/// subscriptions of one session (<c>Halley:MaxSubscriptionsPerSession</c>) and the channels of one stream request
/// (<c>Halley:Streaming:MaxChannelsPerRequest</c>) keep their own keys. Defaults are in docs/configuration.md.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Most messages in one batch (a request body or a WebSocket message); more gets HTTP 400 or <c>400::too_many_messages</c>. Default 256.</summary>
    public int MaxMessagesPerBatch { get; set; } = 256;

    /// <summary>Bytes of one Bayeux message inside a batch; a larger one gets <c>413::message_too_large</c>, the rest of the batch carries on. Default 64 KiB.</summary>
    public int MaxBayeuxMessageSize { get; set; } = 64 * 1024;

    /// <summary>Deepest nesting of JSON arrays and objects in a batch (the batch array itself is level 1); deeper gets HTTP 400 or <c>400::json_too_deep</c>. Default 64.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Sessions alive at once for one client address (an IPv6 address counts by its /64). Default 1,000.</summary>
    public int MaxSessionsPerAddress { get; set; } = 1000;

    /// <summary>WebSockets and streams (<c>/sse</c>, <c>/stream</c>, <c>eventsource</c>) open at once from one client address; more gets HTTP 429. Default 1,000.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 1000;

    /// <summary>
    /// Whether loopback clients (127.0.0.0/8, ::1) are exempt from the per-address limits (sessions, connections,
    /// handshake rate). Default true: on a loopback address sit the host's own tools, load generators and a reverse proxy
    /// on the same machine that does not pass the client's address on (configure ASP.NET Core's forwarded headers so
    /// that it does: then every client is counted by its own address). Node-wide limits apply to everyone.
    /// </summary>
    public bool ExemptLoopback { get; set; } = true;

    /// <summary>Sessions alive at once on this node; a handshake beyond gets <c>503::server_busy</c> with advice to handshake again after a random interval. Default 100,000.</summary>
    public int MaxSessionsPerNode { get; set; } = 100_000;

    /// <summary>WebSockets and streams open at once on this node; more gets HTTP 503 with a random <c>Retry-After</c>. Default 100,000.</summary>
    public int MaxConnectionsPerNode { get; set; } = 100_000;

    /// <summary>Handshakes one client address may make per second, on average; beyond (and its burst) gets <c>429::too_many_handshakes</c>. Default 20.</summary>
    public int HandshakesPerSecondPerAddress { get; set; } = 20;

    /// <summary>Handshakes one client address may make in a burst above the rate. Default 100.</summary>
    public int HandshakeBurstPerAddress { get; set; } = 100;

    /// <summary>
    /// Publishes (broadcast and service) one session may make per second, on average; beyond (and its burst) gets
    /// <c>429::publish_rate_exceeded</c>. Default 1,000: a flood stays bounded while a busy publisher (a ticker feeding
    /// through Bayeux) is not cut; lower it where clients only chat.
    /// </summary>
    public int PublishesPerSecondPerSession { get; set; } = 1000;

    /// <summary>Publishes one session may make in a burst above the rate. Default 2,000.</summary>
    public int PublishBurstPerSession { get; set; } = 2000;

    /// <summary>
    /// Longest a WebSocket message may take to arrive once its first frame began; a sender that declares a huge frame or
    /// trickles one is cut (the socket aborted) when it is over. Default 30 s.
    /// </summary>
    public TimeSpan MessageReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Shortest wait a refused client is told to make (Bayeux advice <c>interval</c>, HTTP <c>Retry-After</c>). Default 1 s.</summary>
    public TimeSpan BackoffMin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait a refused client is told to make; each refusal picks at random in between, so refused clients do not come back together. Default 10 s.</summary>
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromSeconds(10);
}
