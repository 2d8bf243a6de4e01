using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Halley.Engine;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Streaming;
using Halley.Sessions;
using Xunit.Abstractions;

namespace Halley.FunctionalTests.Proxy;

/// <summary>
/// Halley behind a real nginx configured as docs/deployment.md says, then with buffering on, then with a buffering
/// configuration that ignores Halley's header: what arrives through the proxy, and when.
/// </summary>
public sealed class ProxyTests(ITestOutputHelper output)
{
    // An event that nginx holds stays held until its buffer fills or the response ends: no heartbeat in these tests
    // (the default interval is far longer than a test) and no later event pushes it out. So a held event arrives
    // after the 15 s deadline or never, and one that passed at once arrives in milliseconds; a second is far from
    // both, wide enough for a loaded 2-core machine and still a claim of "at once".
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(1);

    public static TheoryData<string> PassingConfigs => ["buffering off (documented)", "buffering on"];

    private static string Configure(string name, string config) => name switch
    {
        "buffering off (documented)" => config,
        "buffering on" => config.Replace("proxy_buffering off;", "proxy_buffering on;", StringComparison.Ordinal),
        // nginx forwards each chunk of an HTTP/1.1 upstream at once even when buffering; read as an HTTP/1.0 body
        // (nginx's default upstream protocol) a stream is held in full buffers.
        "buffering on, header ignored, HTTP/1.0 upstream" => config
            .Replace("proxy_buffering off;", "proxy_buffering on;\n        proxy_ignore_headers X-Accel-Buffering;", StringComparison.Ordinal)
            .Replace("proxy_http_version 1.1;", "proxy_http_version 1.0;", StringComparison.Ordinal),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static Task WaitSubscribedAsync(TestServer server, int keys) =>
        Timeouts.Until(() => server.Get<MessageHub>().SubscribedKeyCount >= keys, "the subscribers are in place");

    // The connect sent through nginx must be held by the server before the publish, or its reply would say nothing
    // about how a held long-poll passes the proxy.
    private static Task WaitHeldAsync(TestServer server, LongPoll longPoll) =>
        Timeouts.Until(() => server.Get<SessionRegistry>().TryGet(longPoll.ClientId, out var session) && session.HasHeldConnect, "the connect through nginx is held");

    [Theory]
    [MemberData(nameof(PassingConfigs))]
    public async Task Sse_Stream_AndLongPolling_PassEventsAtOnce(string configName)
    {
        await using var server = await TestServer.StartAsync();
        await using var nginx = await Nginx.StartAsync(server.BaseAddress, c => Configure(configName, c));
        await using var sse = await LineStream.OpenAsync(new Uri(nginx.BaseAddress, "/sse?channel=/p/**"));
        await using var stream = await LineStream.OpenAsync(new Uri(nginx.BaseAddress, "/stream?channel=/p/**"));
        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        using var longPoll = await LongPoll.StartAsync(nginx.BaseAddress, "/p/**");
        await WaitSubscribedAsync(server, 1);
        var held = longPoll.ConnectAsync();
        await WaitHeldAsync(server, longPoll);

        // Each stream has its own clock: read both just before the publish.
        var sent = sse.Elapsed;
        var streamSent = stream.Elapsed;
        var longPollClock = Stopwatch.StartNew();
        await server.PublishAsync("/p/x", 1);
        var sseEvent = await sse.NextAsync(l => l.StartsWith("data: ", StringComparison.Ordinal));
        var streamEvent = await stream.NextAsync(l => l.Length > 0);
        var reply = await held.Within();
        var longPollLatency = longPollClock.Elapsed;

        var sseLatency = sseEvent!.Value.At - sent;
        var streamLatency = streamEvent!.Value.At - streamSent;
        output.WriteLine($"nginx {configName}: SSE event after {sseLatency.TotalMilliseconds:F0} ms, stream line after {streamLatency.TotalMilliseconds:F0} ms, long-poll reply after {longPollLatency.TotalMilliseconds:F0} ms");
        Assert.InRange(sseLatency, TimeSpan.Zero, AtOnce);
        Assert.InRange(streamLatency, TimeSpan.Zero, AtOnce);
        Assert.InRange(longPollLatency, TimeSpan.Zero, AtOnce);
        Assert.Equal("""{"channel":"/p/x","data":1}""", streamEvent.Value.Line);
        Assert.Contains(reply, m => m?["channel"]?.GetValue<string>() == "/p/x");
    }

    [Fact]
    public async Task BufferingThatIgnoresTheHeader_HoldsEvents_AndPaddingDefeatsIt()
    {
        await using var server = await TestServer.StartAsync();
        await using var nginx = await Nginx.StartAsync(server.BaseAddress, c => Configure("buffering on, header ignored, HTTP/1.0 upstream", c));
        // nginx holds even the response head until its first buffer fills, so this open does not complete yet.
        using var plainHttp = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var plain = ReadFirstEventAsync(plainHttp, new Uri(nginx.BaseAddress, "/sse?channel=/plain"));
        await using var padded = await LineStream.OpenAsync(new Uri(nginx.BaseAddress, "/sse?channel=/padded&pad=8192"));
        await using var paddedStream = await LineStream.OpenAsync(new Uri(nginx.BaseAddress, "/stream?channel=/padded&pad=8192"));
        using var longPoll = await LongPoll.StartAsync(nginx.BaseAddress, "/lp");
        await WaitSubscribedAsync(server, 3);
        var held = longPoll.ConnectAsync();
        await WaitHeldAsync(server, longPoll);

        var longPollClock = Stopwatch.StartNew();
        var paddedSent = padded.Elapsed;
        var paddedStreamSent = paddedStream.Elapsed;
        await server.PublishAsync("/plain", 1);
        await server.PublishAsync("/padded", 2);
        await server.PublishAsync("/lp", 3);
        var paddedEvent = await padded.NextAsync(l => l.StartsWith("data: ", StringComparison.Ordinal));
        var paddedStreamEvent = await paddedStream.NextAsync(l => l.StartsWith('{'));
        await held.Within();
        var longPollLatency = longPollClock.Elapsed;
        var plainArrived = await Task.WhenAny(plain, Task.Delay(TimeSpan.FromSeconds(1.5))) == plain;
        plainHttp.CancelPendingRequests();
        _ = plain.ContinueWith(static t => t.Exception, TaskScheduler.Default);

        var paddedStreamLatency = paddedStreamEvent!.Value.At - paddedStreamSent;
        output.WriteLine($"nginx buffering, header ignored: unpadded SSE event within 1.5 s: {plainArrived}; padded (8 KiB) SSE event after {(paddedEvent!.Value.At - paddedSent).TotalMilliseconds:F0} ms; padded stream line after {paddedStreamLatency.TotalMilliseconds:F0} ms; long-poll reply after {longPollLatency.TotalMilliseconds:F0} ms");
        Assert.False(plainArrived, "nginx was expected to hold the unpadded event in its buffer");
        Assert.InRange(paddedEvent.Value.At - paddedSent, TimeSpan.Zero, AtOnce);
        Assert.Equal("""{"channel":"/padded","data":2}""", paddedStreamEvent.Value.Line);
        Assert.InRange(paddedStreamLatency, TimeSpan.Zero, AtOnce);
        Assert.InRange(longPollLatency, TimeSpan.Zero, AtOnce);
    }

    [Fact]
    public async Task Heartbeats_PassThroughTheDocumentedConfig()
    {
        await using var server = await TestServer.StartAsync("Halley:HeartbeatInterval=00:00:00.200", "Halley:SweepPeriod=00:00:00.020");
        await using var nginx = await Nginx.StartAsync(server.BaseAddress);
        await using var sse = await LineStream.OpenAsync(new Uri(nginx.BaseAddress, "/sse?channel=/quiet"));
        Assert.NotNull(await sse.NextAsync(l => l == ":", TimeSpan.FromSeconds(5)));
        Assert.NotNull(await sse.NextAsync(l => l == ":", TimeSpan.FromSeconds(5)));
    }

    private static async Task<string> ReadFirstEventAsync(HttpClient http, Uri url)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line;
            }
        }
        return "";
    }

    /// <summary>A minimal long-polling Bayeux client through the proxy: handshake, subscribe, then held connects.</summary>
    private sealed class LongPoll : IDisposable
    {
        private readonly HttpClient _http;

        private LongPoll(Uri baseAddress) =>
            _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

        public static async Task<LongPoll> StartAsync(Uri baseAddress, string channel)
        {
            var client = new LongPoll(baseAddress);
            var handshake = await client.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["supportedConnectionTypes"] = new JsonArray("long-polling") });
            client.ClientId = handshake[0]!["clientId"]!.GetValue<string>();
            var subscribed = await client.SendAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = client.ClientId, ["subscription"] = channel });
            Assert.True(subscribed[0]!["successful"]!.GetValue<bool>());
            return client;
        }

        public string ClientId { get; private set; } = "";

        public Task<JsonArray> ConnectAsync() =>
            SendAsync(new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = ClientId, ["connectionType"] = "long-polling" });

        private async Task<JsonArray> SendAsync(JsonObject message)
        {
            using var response = await _http.PostAsync("/cometd", new StringContent(new JsonArray(message).ToJsonString(), Encoding.UTF8, "application/json")).Within();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        }

        public void Dispose() => _http.Dispose();
    }
}
