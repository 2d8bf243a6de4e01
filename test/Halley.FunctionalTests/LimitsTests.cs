using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Hostile;
using Halley.FunctionalTests.Infrastructure;
using Halley.Sessions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Halley.FunctionalTests;

/// <summary>
/// Halley:Limits on a live server: each limit refuses with its Bayeux error or HTTP status, is counted in
/// halley.limits.exceeded, and leaves other clients (another session, another address) served as before.
/// Per-address limits are tested from 127.0.0.2 and 127.0.0.3 with the loopback exemption off.
/// </summary>
public sealed class LimitsTests
{
    private static readonly IPAddress Mallory = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Alice = IPAddress.Parse("127.0.0.3");

    private static string Error(JsonNode reply) => reply["error"]!.GetValue<string>();

    private static bool Successful(JsonNode reply) => reply["successful"]!.GetValue<bool>();

    /// <summary>A client on another address handshakes, subscribes and gets its own publish back: the server still serves.</summary>
    private static async Task AssertServedAsync(TestServer server, IPAddress? from = null)
    {
        await using var socket = await BayeuxSocket.ConnectAsync(server, from: from);
        await socket.HandshakeAsync();
        Assert.True(Successful(await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/served" })));
        await socket.ConnectAndHoldAsync();
        Assert.True(Successful(await socket.RequestAsync(new JsonObject { ["channel"] = "/served", ["data"] = "still here" })));
        await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/served" && m["data"] is not null);
    }

    private static string Batch(int count) =>
        "[" + string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"channel":"/meta/handshake","version":"1.0","id":"{{i}}"}""")) + "]";

    private static string Nested(int depth) =>
        """[{"channel":"/a","data":""" + new string('[', depth - 2) + new string(']', depth - 2) + "}]";

    [Fact]
    public async Task TooManyMessagesInABatch_Is400OverHttp_AndABayeuxErrorOverWebSocket()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MaxMessagesPerBatch=4");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        using (var response = await http.PostRawAsync(Batch(5)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("MaxMessagesPerBatch", await response.Content.ReadAsStringAsync());
        }
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.SendRawAsync(Batch(5));
        var reply = (await socket.NextFrameAsync())[0]!;
        Assert.Equal("400::too_many_messages", Error(reply));
        // The socket that sent it carries on, and so does everyone else.
        await socket.HandshakeAsync();
        Assert.Equal(0, server.Get<SessionRegistry>().Count - 1);
        Assert.Equal(2, counter["batch_size"]);
        await AssertServedAsync(server);
    }

    [Fact]
    public async Task JsonNestedTooDeep_Is400OverHttp_AndABayeuxErrorOverWebSocket()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MaxJsonDepth=8");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        using (var ok = await http.PostRawAsync(Nested(8)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var response = await http.PostRawAsync(Nested(9)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("MaxJsonDepth", await response.Content.ReadAsStringAsync());
        }
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.SendRawAsync(Nested(200));
        Assert.Equal("400::json_too_deep", Error((await socket.NextFrameAsync())[0]!));
        await socket.HandshakeAsync();
        Assert.Equal(2, counter["json_depth"]);
        await AssertServedAsync(server);
    }

    [Fact]
    public async Task ABayeuxMessageOverItsSize_IsRefusedAlone()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MaxBayeuxMessageSize=512");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        await http.HandshakeAsync();
        var replies = await http.SendAsync(http.Publish("/big", new string('x', 600)), http.Publish("/small", "ok"));
        Assert.Equal("413::message_too_large", Error(replies[0]!));
        Assert.True(Successful(replies[1]!));
        Assert.Equal(1, counter["message_size"]);
        await AssertServedAsync(server);
    }

    [Fact]
    public async Task PublishesOverTheSessionsRate_GetA429Error_OtherSessionsPublish()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:PublishesPerSecondPerSession=1", "Halley:Limits:PublishBurstPerSession=2");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        await http.HandshakeAsync();
        var replies = await http.SendAsync(http.Publish("/a", 1), http.Publish("/a", 2), http.Publish("/a", 3));
        Assert.True(Successful(replies[0]!));
        Assert.True(Successful(replies[1]!));
        Assert.Equal("429::publish_rate_exceeded", Error(replies[2]!));
        Assert.Equal(1, counter["publish_rate"]);
        await AssertServedAsync(server);
    }

    [Fact]
    public async Task HandshakesOverTheAddressRate_GetA429ErrorWithBackoff_OtherAddressesHandshake()
    {
        await using var server = await TestServer.StartAsync(
            "Halley:Limits:ExemptLoopback=false", "Halley:Limits:HandshakesPerSecondPerAddress=1", "Halley:Limits:HandshakeBurstPerAddress=2",
            "Halley:Limits:BackoffMin=00:00:02", "Halley:Limits:BackoffMax=00:00:05");
        using var counter = new LimitCounter(server);
        using var mallory = new BayeuxHttp(server, from: Mallory);
        await mallory.HandshakeAsync();
        await mallory.HandshakeAsync();
        var refused = (await mallory.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["id"] = "3" }))[0]!;
        Assert.Equal("429::too_many_handshakes", Error(refused));
        Assert.Equal("handshake", refused["advice"]!["reconnect"]!.GetValue<string>());
        Assert.InRange(refused["advice"]!["interval"]!.GetValue<long>(), 2000, 5000);
        Assert.Equal(1, counter["handshake_rate"]);
        await AssertServedAsync(server, Alice);
    }

    [Fact]
    public async Task SessionsOverTheAddressLimit_AreRefusedUntilOneEnds_OtherAddressesHandshake()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:ExemptLoopback=false", "Halley:Limits:MaxSessionsPerAddress=2");
        using var counter = new LimitCounter(server);
        using var first = new BayeuxHttp(server, from: Mallory);
        using var second = new BayeuxHttp(server, from: Mallory);
        await first.HandshakeAsync();
        await second.HandshakeAsync();
        var refused = (await second.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["id"] = "x" }))[0]!;
        Assert.Equal("429::too_many_sessions", Error(refused));
        Assert.Equal("handshake", refused["advice"]!["reconnect"]!.GetValue<string>());
        Assert.Equal(1, counter["sessions_per_address"]);
        await AssertServedAsync(server, Alice);
        // A session that ends gives its place back.
        Assert.True(Successful((await first.SendAsync(first.Disconnect()))[0]!));
        await first.HandshakeAsync();
    }

    [Fact]
    public async Task SessionsOverTheNodeLimit_GetServerBusyWithJitteredBackoff()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MaxSessionsPerNode=2", "Halley:Limits:BackoffMin=00:00:01", "Halley:Limits:BackoffMax=00:00:30");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        await http.HandshakeAsync();
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync();
        var intervals = new HashSet<long>();
        for (var i = 0; i < 3; i++)
        {
            var refused = (await http.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["id"] = "x" }))[0]!;
            Assert.Equal("503::server_busy", Error(refused));
            Assert.Equal("handshake", refused["advice"]!["reconnect"]!.GetValue<string>());
            intervals.Add(refused["advice"]!["interval"]!.GetValue<long>());
        }
        Assert.True(intervals.Count > 1, "each refusal picks its own backoff");
        Assert.Equal(3, counter["sessions_per_node"]);
        // The sessions already there carry on.
        Assert.True(Successful(await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/x" })));
        Assert.True(Successful((await http.SendAsync(http.Publish("/x", 1)))[0]!));
    }

    private static async Task<HttpStatusCode?> UpgradeStatusAsync(TestServer server, IPAddress from)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var invoker = new HttpMessageInvoker(FromAddress.Handler(from));
        try
        {
            await socket.ConnectAsync(server.WebSocketUri, invoker, CancellationToken.None).Within();
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            Assert.True(socket.HttpResponseHeaders!.ContainsKey("Retry-After"));
            return socket.HttpStatusCode;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectionsOverTheAddressLimit_Get429_OnBothWebSocketPaths_AndStreams(bool connectionLevel)
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:ExemptLoopback=false", "Halley:Limits:MaxConnectionsPerAddress=1",
            $"Halley:WebSockets:AcceptAtConnectionLevel={connectionLevel}");
        using var counter = new LimitCounter(server);
        await using var held = await BayeuxSocket.ConnectAsync(server, from: Mallory);
        await held.HandshakeAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, await UpgradeStatusAsync(server, Mallory));
        using var http = new HttpClient(FromAddress.Handler(Mallory)) { BaseAddress = server.BaseAddress };
        using (var sse = await http.GetAsync("/sse?channel=/a", HttpCompletionOption.ResponseHeadersRead).Within())
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, sse.StatusCode);
            Assert.NotNull(sse.Headers.RetryAfter);
        }
        Assert.Equal(2, counter["connections_per_address"]);
        // The held socket carries on; another address connects.
        Assert.True(Successful(await held.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/x" })));
        await AssertServedAsync(server, Alice);
        // A closed connection gives its place back.
        await held.DisposeAsync();
        await Timeouts.Until(() => server.Get<Halley.Security.Limits.ClientLimits>().NodeConnections == 0, "the closed socket released its connection");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await UpgradeStatusAsync(server, Mallory));
    }

    [Fact]
    public async Task ConnectionsOverTheNodeLimit_Get503WithRetryAfter()
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MaxConnectionsPerNode=1");
        using var counter = new LimitCounter(server);
        await using var held = await BayeuxSocket.ConnectAsync(server);
        await held.HandshakeAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await UpgradeStatusAsync(server, Alice));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using (var sse = await http.GetAsync("/sse?channel=/a", HttpCompletionOption.ResponseHeadersRead).Within())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, sse.StatusCode);
            Assert.InRange(sse.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 10);
        }
        Assert.Equal(2, counter["connections_per_node"]);
        // Long-polling is not a held connection: it is still served, and the socket carries on.
        using var poller = new BayeuxHttp(server);
        await poller.HandshakeAsync();
        Assert.True(Successful(await held.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/x" })));
    }

    [Fact]
    public async Task ExistingLimits_AreCounted()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxMessageSize=2048", "Halley:MaxSubscriptionsPerSession=1", "Halley:Streaming:MaxChannelsPerRequest=1");
        using var counter = new LimitCounter(server);
        using var http = new BayeuxHttp(server);
        using (var response = await http.PostRawAsync("[" + new string(' ', 3000) + "]"))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        await http.HandshakeAsync();
        Assert.Equal("403:1:too_many_subscriptions", Error((await http.SendAsync(http.Subscribe("/a", "/b")))[0]!));
        using (var sse = await http.Http.GetAsync("/sse?channel=/a&channel=/b", HttpCompletionOption.ResponseHeadersRead).Within())
        {
            Assert.Equal(HttpStatusCode.BadRequest, sse.StatusCode);
        }
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.SendRawAsync(new string(' ', 3000));
        await socket.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Equal(2, counter["body_size"]);
        Assert.Equal(1, counter["subscriptions"]);
        Assert.Equal(1, counter["stream_channels"]);
        await AssertServedAsync(server);
    }

    [Fact]
    public async Task BroadcastsCarryNeitherTheClientIdNorTheTokenOfTheirPublisher()
    {
        await using var server = await TestServer.StartAsync();
        await using var subscriber = await BayeuxSocket.ConnectAsync(server);
        await subscriber.HandshakeAsync();
        Assert.True(Successful(await subscriber.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/news" })));
        await subscriber.ConnectAndHoldAsync();
        await using var publisher = await BayeuxSocket.ConnectAsync(server);
        await publisher.HandshakeAsync();
        Assert.NotNull(publisher.Token);
        var reply = await publisher.RequestAsync(new JsonObject
        {
            ["channel"] = "/news",
            ["data"] = new JsonObject { ["text"] = "hello" },
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = publisher.Token } },
        });
        Assert.True(Successful(reply));
        var frame = await subscriber.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/news" && m["data"] is not null);
        var text = frame.ToJsonString();
        Assert.DoesNotContain(publisher.ClientId!, text);
        Assert.DoesNotContain(publisher.Token!, text);
        Assert.Null(frame["clientId"]);
        Assert.Null(frame["ext"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AWebSocketMessageNotFinishedInTime_AbortsItsSocketOnly(bool connectionLevel)
    {
        await using var server = await TestServer.StartAsync("Halley:Limits:MessageReadTimeout=00:00:01", $"Halley:WebSockets:AcceptAtConnectionLevel={connectionLevel}");
        using var counter = new LimitCounter(server);
        await using var other = await BayeuxSocket.ConnectAsync(server);
        await other.HandshakeAsync();
        // A frame that declares 2^40 bytes and sends two: the reader would wait for the rest forever.
        var outcome = await new HostileTarget(server, "limits").FramesAsync(HostileTarget.Frame(0x1, "[]"u8, declaredLength: 1UL << 40));
        Assert.Equal(Answer.Closed, outcome.Kind);
        Assert.Equal(1, counter["message_read_time"]);
        Assert.True(Successful(await other.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/x" })));
    }

    [Fact]
    public async Task KestrelsSlowSenderLimits_AreSetFromConfiguration()
    {
        await using var server = await TestServer.StartAsync("Kestrel:Limits:KeepAliveTimeout=00:00:07", "Kestrel:Limits:RequestHeadersTimeout=00:00:09",
            "Kestrel:Limits:MaxRequestHeaderCount=50", "Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond=500", "Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:03");
        var limits = server.Get<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(TimeSpan.FromSeconds(7), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(9), limits.RequestHeadersTimeout);
        Assert.Equal(50, limits.MaxRequestHeaderCount);
        Assert.Equal(500, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(3), limits.MinRequestBodyDataRate.GracePeriod);
        // And Kestrel applies them: a head still incomplete after the timeout is cut.
        var outcome = await new HostileTarget(server, "kestrel").RawHttpAsync("POST /cometd HTTP/1.1\r\nHo"u8.ToArray(), patience: TimeSpan.FromSeconds(30));
        Assert.NotNull(outcome.Kind);
    }
}
