using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

/// <summary>WebSocket rules, with upgrades taken at Kestrel's connection level (the default of <c>halley serve</c>).</summary>
public sealed class WebSocketTests : WebSocketTestsBase
{
    protected override bool AcceptAtConnectionLevel => true;

    [Fact]
    public async Task Upgrade_IsTakenBeforeTheHttpLayer()
    {
        // Kestrel's HTTP layer adds Server and Date headers to a 101; the connection-level path does not.
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await socket.ConnectAsync(Server.WebSocketUri, CancellationToken.None).Within();
        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
        Assert.False(socket.HttpResponseHeaders!.ContainsKey("Server"));
    }

    [Fact]
    public async Task IdleSocket_GetsPingFramesFromTheSharedSweep()
    {
        await using var server = await TestServer.StartAsync("Halley:HeartbeatInterval=00:00:00.200", "Halley:SweepPeriod=00:00:00.050");
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).Within();
        var stream = tcp.GetStream();
        // A raw client, because ClientWebSocket answers pings without showing them.
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            "GET /cometd HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var received = new List<byte>();
        var buffer = new byte[256];
        var headEnd = -1;
        while (headEnd < 0)
        {
            var n = await stream.ReadAsync(buffer).AsTask().Within();
            Assert.NotEqual(0, n);
            received.AddRange(buffer.AsSpan(0, n).ToArray());
            headEnd = System.Text.Encoding.ASCII.GetString([.. received]).IndexOf("\r\n\r\n", StringComparison.Ordinal);
        }
        Assert.StartsWith("HTTP/1.1 101", System.Text.Encoding.ASCII.GetString([.. received]), StringComparison.Ordinal);
        received.RemoveRange(0, headEnd + 4);
        // Nothing is sent on this socket, so the next frame must be a ping: FIN + opcode 9, no payload, unmasked.
        while (received.Count < 2)
        {
            var n = await stream.ReadAsync(buffer).AsTask().Within(TimeSpan.FromSeconds(5));
            Assert.NotEqual(0, n);
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        Assert.Equal([0x89, 0x00], received.Take(2));
    }

    [Fact]
    public async Task IncompleteRequestHead_IsClosedAtKestrelsHeaderTimeout()
    {
        await using var server = await TestServer.StartAsync(b => b.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1)));
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).Within();
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /cometd HTTP/1.1\r\nHost: x\r\n"u8.ToArray());
        // Closed by the server: the read ends with 0 bytes or a reset, well before this test's own deadline.
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().Within(TimeSpan.FromSeconds(10)));
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The same rules with upgrades through the HTTP pipeline (ASP.NET Core's WebSocket middleware).</summary>
public sealed class HttpPipelineWebSocketTests : WebSocketTestsBase
{
    protected override bool AcceptAtConnectionLevel => false;

    [Fact]
    public async Task Upgrade_GoesThroughTheHttpLayer()
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await socket.ConnectAsync(Server.WebSocketUri, CancellationToken.None).Within();
        Assert.True(socket.HttpResponseHeaders!.ContainsKey("Server"));
    }
}

public abstract class WebSocketTestsBase : IAsyncLifetime
{
    /// <summary>What Faye's handshake lists: every type it knows, whatever it will end up using.</summary>
    private static readonly string[] FayeConnectionTypes = ["websocket", "eventsource", "long-polling", "cross-origin-long-polling", "callback-polling"];

    private TestServer _server = null!;

    protected abstract bool AcceptAtConnectionLevel { get; }

    protected TestServer Server => _server;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "Halley:Timeout=00:00:02", "Halley:SweepPeriod=00:00:00.050", "Halley:MaxMessageSize=4096",
        $"Halley:WebSockets:AcceptAtConnectionLevel={AcceptAtConnectionLevel}");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Subscribe_Publish_EventIsPushedWithoutWaitingForTheConnect()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.HandshakeAsync();
        var connect = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(connect["successful"]!.GetValue<bool>());
        // Hold a connect (2 s), then publish: the event must arrive while the connect is still held.
        await socket.SendAsync(new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = socket.ClientId, ["connectionType"] = "websocket", ["id"] = "held" });
        var subscribe = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/ws/**" });
        Assert.True(subscribe["successful"]!.GetValue<bool>());

        var publish = await socket.RequestAsync(new JsonObject { ["channel"] = "/ws/a/b", ["data"] = new JsonObject { ["n"] = 1 } });
        Assert.True(publish["successful"]!.GetValue<bool>());
        var pushed = await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/ws/a/b", TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1, pushed["data"]!["n"]!.GetValue<int>());

        var heldReply = await socket.ReplyAsync("held");
        Assert.True(heldReply["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task HundredMessages_ArriveInOrder()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.HandshakeAsync();
        await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/order" });
        for (var i = 0; i < 100; i++)
        {
            await socket.SendAsync(new JsonObject { ["channel"] = "/order", ["clientId"] = socket.ClientId, ["data"] = i });
        }
        for (var i = 0; i < 100; i++)
        {
            var message = await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/order" && m["data"] is not null);
            Assert.Equal(i, message["data"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task RepliesQueuedWhileHeldConnectsAreAnsweredOnOtherThreads_AllArrive()
    {
        // Each frame's connect replaces the one held before, whose reply is queued from another thread while the
        // read loop queues the frame's publish reply: two producers, and a send loop that ends after each frame and
        // starts again for the next. A send loop that began with the list producers append to lost replies or
        // stalled the socket here (it did so for about 1 CometD session in 100 under load).
        const int sockets = 8;
        const int frames = 400;
        await Task.WhenAll(Enumerable.Range(0, sockets).Select(_ => Task.Run(async () =>
        {
            await using var socket = await BayeuxSocket.ConnectAsync(_server);
            await socket.HandshakeAsync();
            for (var i = 0; i < frames; i++)
            {
                await socket.SendAsync(
                    new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = socket.ClientId, ["connectionType"] = "websocket", ["id"] = $"c{i}" },
                    new JsonObject { ["channel"] = "/race", ["clientId"] = socket.ClientId, ["id"] = $"p{i}", ["data"] = i });
                Assert.True((await socket.ReplyAsync($"p{i}"))["successful"]!.GetValue<bool>());
            }
            for (var i = 0; i < frames - 1; i++)
            {
                Assert.True((await socket.ReplyAsync($"c{i}"))["successful"]!.GetValue<bool>());
            }
        })));
    }

    [Fact]
    public async Task NewSocket_ResumesTheSessionWithTheToken_AndGetsQueuedMessagesInOneFrame()
    {
        await using var first = await BayeuxSocket.ConnectAsync(_server);
        await first.HandshakeAsync();
        await first.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/resume" });
        var clientId = first.ClientId!;
        var token = first.Token!;
        await first.DisposeAsync();
        await Timeouts.Until(() => _server.Get<Halley.Sessions.SessionRegistry>().TryGet(clientId, out var s) && s.Owner is null, "the server noticed the closed socket");

        for (var i = 0; i < 5; i++)
        {
            await _server.PublishAsync("/resume", i);
        }

        await using var second = await BayeuxSocket.ConnectAsync(_server);
        second.ClientId = clientId;
        var withoutToken = await second.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.Equal("402::session_unknown", withoutToken["error"]!.GetValue<string>());

        await second.SendAsync(new JsonObject
        {
            ["channel"] = "/meta/connect",
            ["clientId"] = clientId,
            ["connectionType"] = "websocket",
            ["id"] = "resume",
            ["advice"] = new JsonObject { ["timeout"] = 0 },
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = token } },
        });
        // The five queued events were drained together: one frame holds all of them, in order.
        JsonArray frame;
        do
        {
            frame = await second.NextFrameAsync();
        }
        while (!frame.Any(m => m!["channel"]!.GetValue<string>() == "/resume"));
        var data = frame.Where(m => m!["channel"]!.GetValue<string>() == "/resume").Select(m => m!["data"]!.GetValue<int>()).ToList();
        Assert.Equal([0, 1, 2, 3, 4], data);
    }

    [Fact]
    public async Task ASocketServesOnlyItsOwnSessions()
    {
        await using var owner = await BayeuxSocket.ConnectAsync(_server);
        await owner.HandshakeAsync();
        await using var other = await BayeuxSocket.ConnectAsync(_server);
        other.ClientId = owner.ClientId;
        var reply = await other.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/stolen" });
        Assert.Equal("402::session_unknown", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task MalformedFrame_GetsAnError_AndTheSocketKeepsWorking()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.SendRawAsync("[{\"channel\":");
        // The whole frame, as docs/protocol.md shows it: a fresh socket has nothing else to receive first.
        var frame = await socket.NextFrameAsync();
        Assert.Equal("""[{"channel":"","successful":false,"error":"400::malformed_json"}]""", frame.ToJsonString());
        await socket.HandshakeAsync();
    }

    [Fact]
    public async Task EmptyArray_IsIgnored()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.SendRawAsync("[]");
        var reply = await socket.HandshakeAsync();
        Assert.True(reply["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task OversizeFrame_ClosesWith1009()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.SendRawAsync("[" + string.Join(",", Enumerable.Repeat("1", 4000)) + "]");
        await socket.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task BinaryFrame_ClosesWith1003()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.SendBinaryAsync([1, 2, 3]);
        await socket.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, socket.CloseStatus);
    }

    [Fact]
    public async Task HttpHandshakenSession_CanMoveToWebSocket_WithItsBrowserCookie()
    {
        // Faye handshakes over HTTP and then connects over WebSocket with the same client id and cookies.
        using var http = new BayeuxHttp(_server);
        await http.HandshakeAsync();
        var cookie = http.Cookies.GetCookieHeader(_server.BaseAddress);
        await using var socket = await BayeuxSocket.ConnectAsync(_server, cookie);
        socket.ClientId = http.ClientId;
        var subscribe = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/moved" });
        Assert.True(subscribe["successful"]!.GetValue<bool>(), subscribe.ToJsonString());
        await _server.PublishAsync("/moved", "here");
        var pushed = await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/moved");
        Assert.Equal("here", pushed["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task HttpHandshakenSession_IsClaimedByTheFirstCookielessSocket_AndOnlyByIt()
    {
        // Faye opens its WebSocket before its HTTP handshake, so that socket carries no cookie.
        using var http = new BayeuxHttp(_server);
        await http.HandshakeAsync(connectionTypes: FayeConnectionTypes);
        await using var faye = await BayeuxSocket.ConnectAsync(_server);
        faye.ClientId = http.ClientId;
        var claimed = await faye.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(claimed["successful"]!.GetValue<bool>(), claimed.ToJsonString());

        await using var latecomer = await BayeuxSocket.ConnectAsync(_server);
        latecomer.ClientId = http.ClientId;
        var refused = await latecomer.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/late" });
        Assert.Equal("402::session_unknown", refused["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task HttpSessionWhoseFirstConnectWentOverHttp_IsStillClaimedByTheCookielessSocketOpenedWithIt()
    {
        // Faye opens its socket as it handshakes over HTTP. When the socket opens after the handshake reply, Faye's
        // subscribe and first connect go over long-polling, and the socket, which has no cookie, first speaks with
        // the connect that follows. It must get the session, and what was published in between.
        using var http = new BayeuxHttp(_server);
        await http.HandshakeAsync(connectionTypes: FayeConnectionTypes);
        await http.SubscribeAsync("/race");
        var held = http.SendAsync(http.Connect());
        await _server.PublishAsync("/race", "first");
        var firstConnect = await held;
        Assert.True(firstConnect[0]!["successful"]!.GetValue<bool>(), firstConnect.ToJsonString());
        Assert.Contains(firstConnect, m => m!["channel"]!.GetValue<string>() == "/race" && m["data"]!.GetValue<string>() == "first");
        await _server.PublishAsync("/race", "gap");

        await using var faye = await BayeuxSocket.ConnectAsync(_server);
        faye.ClientId = http.ClientId;
        var claimed = await faye.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(claimed["successful"]!.GetValue<bool>(), claimed.ToJsonString());
        var gap = await faye.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/race");
        Assert.Equal("gap", gap["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task HttpSessionWithASocketBoundByItsCookie_CannotBeClaimedByACookielessSocket()
    {
        // A browser's Faye whose socket carries the cookie: the client has its socket, so the window is closed.
        using var http = new BayeuxHttp(_server);
        await http.HandshakeAsync(connectionTypes: FayeConnectionTypes);
        await using var browser = await BayeuxSocket.ConnectAsync(_server, http.Cookies.GetCookieHeader(_server.BaseAddress));
        browser.ClientId = http.ClientId;
        var bound = await browser.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(bound["successful"]!.GetValue<bool>(), bound.ToJsonString());

        await using var stranger = await BayeuxSocket.ConnectAsync(_server);
        stranger.ClientId = http.ClientId;
        var refused = await stranger.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/stolen" });
        Assert.Equal("402::session_unknown", refused["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task HttpSessionOfAClientThatOffersNoWebSocket_CannotBeClaimedByACookielessSocket()
    {
        using var http = new BayeuxHttp(_server);
        await http.HandshakeAsync(connectionTypes: ["long-polling", "callback-polling"]);
        await using var stranger = await BayeuxSocket.ConnectAsync(_server);
        stranger.ClientId = http.ClientId;
        var refused = await stranger.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/stolen" });
        Assert.Equal("402::session_unknown", refused["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task HttpSession_CannotBeClaimedByACookielessSocket_OnceItsClaimWindowEnded()
    {
        // The window lasts Timeout + MaxInterval after the handshake: 2.5 s here. The client keeps its session alive
        // over long-polling meanwhile, as a client whose socket never opened would. (MaxInterval is not smaller so
        // that a busy machine's pause between two connects does not expire the session.)
        await using var server = await TestServer.StartAsync(
            "Halley:Timeout=00:00:00.500", "Halley:MaxInterval=00:00:02", "Halley:SweepPeriod=00:00:00.050",
            $"Halley:WebSockets:AcceptAtConnectionLevel={AcceptAtConnectionLevel}");
        using var http = new BayeuxHttp(server);
        await http.HandshakeAsync(connectionTypes: FayeConnectionTypes);
        var handshakeEnded = System.Diagnostics.Stopwatch.StartNew();
        // Each connect is held for the whole Timeout, so this loop is paced by the server, not by sleeps.
        while (handshakeEnded.Elapsed < TimeSpan.FromSeconds(3))
        {
            var connect = await http.SendAsync(http.Connect());
            Assert.True(connect[0]!["successful"]!.GetValue<bool>(), connect.ToJsonString());
        }

        await using var stranger = await BayeuxSocket.ConnectAsync(server);
        stranger.ClientId = http.ClientId;
        var refused = await stranger.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.Equal("402::session_unknown", refused["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task AckExtension_DeliversOnlyInConnectReplies_AndResendsWhatWasNotAcknowledged()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        var handshake = await socket.HandshakeAsync(new JsonObject { ["ack"] = true });
        Assert.True(handshake["ext"]!["ack"]!.GetValue<bool>());
        await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/acked" });
        await _server.PublishAsync("/acked", "one");

        var first = await ConnectFrameAsync(socket, ack: 0);
        Assert.Equal(["one"], first.Events);
        // Pretend the reply was lost: acknowledge the older batch again; "one" comes back, ahead of "two".
        await _server.PublishAsync("/acked", "two");
        var again = await ConnectFrameAsync(socket, ack: 0);
        Assert.Equal(["one", "two"], again.Events);
        Assert.True(again.Batch > first.Batch);
        // Acknowledge it: nothing is resent.
        var done = await ConnectFrameAsync(socket, ack: again.Batch);
        Assert.Empty(done.Events);
    }

    [Fact]
    public async Task AtTheEndOfItsLifetime_TheSocketAnswersItsHeldConnect_ClosesNormally_AndTheSessionLivesOn()
    {
        await using var server = await TestServer.StartAsync(
            "Halley:MaxConnectionLifetime=00:00:01", "Halley:SweepPeriod=00:00:00.050",
            $"Halley:WebSockets:AcceptAtConnectionLevel={AcceptAtConnectionLevel}");
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync();
        await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/life" });
        await socket.SendAsync(new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = socket.ClientId, ["connectionType"] = "websocket", ["id"] = "held" });
        await server.PublishAsync("/life", "before");
        Assert.Equal("before", (await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/life"))["data"]!.GetValue<string>());

        // The held connect (Timeout is 20 s) is answered when the lifetime (1 s ±10%) ends: reconnect at once.
        var reply = await socket.ReplyAsync("held");
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.Equal("retry", reply["advice"]!["reconnect"]!.GetValue<string>());
        Assert.Equal(0, reply["advice"]!["interval"]!.GetValue<long>());
        await socket.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);

        // The session survived with its subscription: what is published now waits for the client's next socket.
        Assert.True(server.Get<Halley.Sessions.SessionRegistry>().TryGet(socket.ClientId, out var session));
        Assert.False(session.IsTerminated);
        await server.PublishAsync("/life", "gap");
        await using var next = await BayeuxSocket.ConnectAsync(server);
        next.ClientId = socket.ClientId;
        var resumed = await next.RequestAsync(new JsonObject
        {
            ["channel"] = "/meta/connect",
            ["connectionType"] = "websocket",
            ["advice"] = new JsonObject { ["timeout"] = 0 },
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = socket.Token } },
        });
        Assert.True(resumed["successful"]!.GetValue<bool>(), resumed.ToJsonString());
        Assert.Equal("gap", (await next.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/life"))["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task AtTheEndOfItsLifetime_ASocketWithoutAHeldConnect_StillClosesNormally()
    {
        await using var server = await TestServer.StartAsync(
            "Halley:MaxConnectionLifetime=00:00:00.500", "Halley:SweepPeriod=00:00:00.050",
            $"Halley:WebSockets:AcceptAtConnectionLevel={AcceptAtConnectionLevel}");
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync();

        await socket.WaitClosedAsync();

        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.True(server.Get<Halley.Sessions.SessionRegistry>().TryGet(socket.ClientId, out _));
    }

    private static async Task<(long Batch, List<string> Events)> ConnectFrameAsync(BayeuxSocket socket, long ack)
    {
        var id = socket.NextId();
        await socket.SendAsync(new JsonObject
        {
            ["channel"] = "/meta/connect",
            ["clientId"] = socket.ClientId,
            ["connectionType"] = "websocket",
            ["id"] = id,
            ["advice"] = new JsonObject { ["timeout"] = 0 },
            ["ext"] = new JsonObject { ["ack"] = ack },
        });
        while (true)
        {
            var frame = await socket.NextFrameAsync();
            var reply = frame.FirstOrDefault(m => m!["id"]?.GetValue<string>() == id);
            if (reply is null)
            {
                continue;
            }
            var events = frame.Where(m => m!["channel"]!.GetValue<string>() == "/acked").Select(m => m!["data"]!.GetValue<string>()).ToList();
            return (reply["ext"]!["ack"]!.GetValue<long>(), events);
        }
    }
}
