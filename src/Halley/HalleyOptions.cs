namespace Halley;

/// <summary>
/// Halley's settings, bound from the configuration section <c>Halley</c> (appsettings.json,
/// <c>Halley__…</c> environment variables, <c>--Halley:…</c> on the command line). Every default is the
/// documented one in docs/configuration.md.
/// </summary>
public sealed class HalleyOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Halley";

    /// <summary>How long a <c>/meta/connect</c> is held when no message arrives. Default 20 s: below the 30–60 s idle limits common in proxies and load balancers.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The pause a client makes between a connect reply and its next connect. Default 0.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.Zero;

    /// <summary>How long a session lives without a held connect after its last connect reply. Default 10 s.</summary>
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest a message on a lazy channel waits before it wakes the session. Default 5 s.</summary>
    public TimeSpan MaxLazyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Channel names and patterns (<c>/ticker/**</c>) whose messages are lazy: queued without waking a held
    /// connect, sent with the next non-lazy message or within <see cref="MaxLazyTimeout"/>.
    /// </summary>
    public List<string> LazyChannels { get; set; } = [];

    /// <summary>
    /// How often the one shared sweep runs: it ends held connects at their timeout, flushes lazy messages and
    /// expires sessions. It bounds their precision. Default 250 ms.
    /// </summary>
    public TimeSpan SweepPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Most messages queued for one session. Default 1,000.</summary>
    public int MaxQueue { get; set; } = 1000;

    /// <summary>What happens when a session's queue is full. Default <see cref="QueueFullPolicy.Disconnect"/>.</summary>
    public QueueFullPolicy QueueFullPolicy { get; set; } = QueueFullPolicy.Disconnect;

    /// <summary>Largest request body or WebSocket message accepted, in bytes; larger gets HTTP 413 or close code 1009. Default 64 KiB.</summary>
    public int MaxMessageSize { get; set; } = 64 * 1024;

    /// <summary>Most channels one session may subscribe to. Default 1,024.</summary>
    public int MaxSubscriptionsPerSession { get; set; } = 1024;

    /// <summary>
    /// How long a long-lived connection (SSE, HTTP streaming, Faye <c>eventsource</c>, WebSocket) may stay quiet
    /// before the server sends a heartbeat: an SSE comment line, a newline, a WebSocket ping. Default 25 s: below
    /// the 30–60 s idle limits of common proxies, load balancers and NATs. Driven by the shared sweep, so its
    /// precision is <see cref="SweepPeriod"/>.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Longest a long-lived connection stays open before the server closes it cleanly with a reconnect hint
    /// (<c>retry:</c> for SSE, a connect reply's advice for Bayeux). Each connection's lifetime is randomised by
    /// ±10% so clients do not all reconnect together. Default 10 minutes.
    /// </summary>
    public TimeSpan MaxConnectionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The subscribe-only streaming endpoints <c>/sse</c> and <c>/stream</c>.</summary>
    public StreamingOptions Streaming { get; set; } = new();

    /// <summary>How WebSocket connections are accepted.</summary>
    public WebSocketSettings WebSockets { get; set; } = new();

    /// <summary>Session binding to the browser or connection that created it.</summary>
    public SessionBindingOptions SessionBinding { get; set; } = new();

    /// <summary>Cross-origin access for <c>cross-origin-long-polling</c>.</summary>
    public CorsOptions Cors { get; set; } = new();

    /// <summary>The backend HTTP API.</summary>
    public ApiOptions Api { get; set; } = new();

    /// <summary>Authentication (connection tokens, anonymous access) and channel authorization.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>What one client may cost the server: batch shape, rates, sessions and connections per address and node.</summary>
    public Security.Limits.LimitsOptions Limits { get; set; } = new();

    /// <summary>Which channels keep a history, so clients that come back can recover what they missed.</summary>
    public HistoryOptions History { get; set; } = new();
}
