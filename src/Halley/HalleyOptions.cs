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

    /// <summary>Which channels keep a history, so clients that come back can recover what they missed.</summary>
    public HistoryOptions History { get; set; } = new();
}

/// <summary>
/// Channel history and recovery (docs/recovery.md). Off unless a rule names the channel: in appsettings.json
/// <c>"History": { "Channels": { "/chat/**": { "Size": 1000, "Ttl": "00:10:00" } } }</c>, on the command line
/// <c>--Halley:History:Channels:/chat/**:Size=1000</c>.
/// </summary>
public sealed class HistoryOptions
{
    /// <summary>
    /// Retention rules by channel name or pattern. A channel takes the rule of its own name if there is one,
    /// otherwise that of the most specific matching pattern (the longest prefix; <c>/a/*</c> before <c>/a/**</c>).
    /// Channels no rule matches keep no history.
    /// </summary>
    public Dictionary<string, HistoryRule> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Most messages one recovery replays (a subscribe with a position, a resumed stream). A client further
    /// behind is told <c>recovered: false</c> and reloads its state instead. Default 1,000; at most the room left in
    /// the session's queue (<see cref="HalleyOptions.MaxQueue"/> minus what it already holds), since replayed
    /// messages wait in the same bounded queue.
    /// </summary>
    public int MaxRecoveredMessages { get; set; } = 1000;
}

/// <summary>How much history one channel keeps: at most <see cref="Size"/> messages, none older than <see cref="Ttl"/>.</summary>
public sealed class HistoryRule
{
    /// <summary>Most messages kept per channel. Default 100.</summary>
    public int Size { get; set; } = 100;

    /// <summary>Longest a message is kept. Default 10 minutes.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>What to do when a session's outbound queue is full.</summary>
public enum QueueFullPolicy
{
    /// <summary>End the session: the client is told to handshake again, so it knows it lost messages. Nothing is dropped silently.</summary>
    Disconnect,

    /// <summary>Drop the oldest queued message to make room (for feeds where only the latest value matters).</summary>
    DropOldest,
}

/// <summary>Settings of the subscribe-only streaming endpoints <c>GET /sse</c> and <c>GET /stream</c>.</summary>
public sealed class StreamingOptions
{
    /// <summary>Most <c>channel=</c> parameters one request may carry; more gets HTTP 400. Default 16.</summary>
    public int MaxChannelsPerRequest { get; set; } = 16;

    /// <summary>
    /// Bytes of padding written at the start of every streaming response, to push it through an intermediary
    /// that holds back the first few kilobytes. Default 0 (off); a client asks for it with <c>?pad=N</c>.
    /// </summary>
    public int Padding { get; set; }

    /// <summary>Largest padding a request may ask for with <c>?pad=N</c>; more gets HTTP 400. Default 64 KiB.</summary>
    public int MaxPadding { get; set; } = 64 * 1024;

    /// <summary>The reconnection delay sent as <c>retry:</c> when the server ends an SSE stream. Default 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>How WebSocket connections are accepted.</summary>
public sealed class WebSocketSettings
{
    /// <summary>
    /// Accept WebSocket upgrades of the Bayeux endpoint at Kestrel's connection level, before the HTTP layer,
    /// on listeners set up with <see cref="HalleyKestrelExtensions.UseHalleyWebSockets"/> (<c>halley serve</c>
    /// sets up all of its plaintext listeners so). Saves 46% of the server memory of each idle WebSocket
    /// (19.0 → 10.3 KB, bench/results/2026-12-02-per-connection.md); such upgrades bypass HTTP middleware.
    /// Default true.
    /// </summary>
    public bool AcceptAtConnectionLevel { get; set; } = true;
}

/// <summary>How a session is tied to the client that created it, so a leaked client id cannot be used by someone else.</summary>
public sealed class SessionBindingOptions
{
    /// <summary>
    /// Require HTTP requests of a session to carry the browser cookie set at its handshake. Default true.
    /// Turn off only for clients that cannot keep cookies.
    /// </summary>
    public bool RequireBrowserCookie { get; set; } = true;

    /// <summary>The cookie's name. Default <c>BAYEUX_BROWSER</c>, as CometD names it.</summary>
    public string BrowserCookieName { get; set; } = "BAYEUX_BROWSER";

    /// <summary>The cookie's SameSite mode: <c>Lax</c> (default), <c>Strict</c> or <c>None</c> (cross-site; needs HTTPS).</summary>
    public Microsoft.AspNetCore.Http.SameSiteMode BrowserCookieSameSite { get; set; } = Microsoft.AspNetCore.Http.SameSiteMode.Lax;
}

/// <summary>The CORS headers of the Bayeux endpoint, <c>/sse</c> and <c>/stream</c>.</summary>
public sealed class CorsOptions
{
    /// <summary>
    /// Origins, e.g. <c>https://app.example.com</c>, that get CORS headers (<c>Access-Control-Allow-Origin</c>
    /// echoing the origin, with credentials) on <c>/cometd</c>, <c>/sse</c> and <c>/stream</c>, so a browser page
    /// there may read the responses; <c>*</c> allows any. Empty (default): no CORS headers, so browsers keep
    /// other origins' pages from reading those responses.
    /// This is CORS only, not access control: the server refuses no request for its <c>Origin</c> today. A
    /// cross-origin request the browser sends without a preflight is still handled, a WebSocket upgrade is
    /// accepted whatever its <c>Origin</c>, and callback-polling (JSONP) is readable from any page.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>The backend HTTP API (<c>/api/…</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>The bearer key callers must send. When unset (default), only loopback callers are served.</summary>
    public string? Key { get; set; }
}
