using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Streaming;

namespace Halley.FunctionalTests.Recovery;

/// <summary>
/// Resumable streams end to end, per transport: a subscriber is cut off (by itself or by the server), messages
/// are published while it is gone, it comes back with its last position and gets exactly those, in order, then
/// live ones; beyond retention it is told <c>recovered: false</c> and gets no partial replay.
/// </summary>
public sealed class RecoveryTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "Halley:History:Channels:/chat/**:Size=100",
        "Halley:History:Channels:/stocks/*:Size=100",
        "Halley:History:Channels:/small/**:Size=3",
        "Halley:MaxConnectionLifetime=00:00:01",
        "Halley:SweepPeriod=00:00:00.050");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PublishApi_AnswersThePosition_OnlyForChannelsWithHistory()
    {
        var first = await _server.PublishAsync("/chat/a", 1);
        var second = await _server.PublishAsync("/chat/b", 2);
        var none = await _server.PublishAsync("/nohistory", 3);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(none);
        Assert.True(Offset(second!) > Offset(first!));
        Assert.Equal(Epoch(first!), Epoch(second!));
    }

    [Fact]
    public async Task WebSocket_ClientCutsOff_NewSessionRecoversExactlyTheMissedMessages_ThenLive()
    {
        string last;
        await using (var socket = await OpenSubscribedSocketAsync("/chat/room"))
        {
            await _server.PublishAsync("/chat/room", "before");
            var before = await socket.WaitForAsync(IsEvent("/chat/room"));
            Assert.Equal("before", before["data"]!.GetValue<string>());
            last = before["ext"]!["halley"]!["position"]!.GetValue<string>();
            socket.Abort();
        }
        var missed = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            await _server.PublishAsync("/chat/room", "missed" + i);
            missed.Add("missed" + i);
        }
        await using var back = await BayeuxSocket.ConnectAsync(_server);
        await back.HandshakeAsync();
        var reply = await back.RequestAsync(SubscribeFrom("/chat/room", last));
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.True(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        await back.ConnectAndHoldAsync();
        await _server.PublishAsync("/chat/room", "live");
        var received = await ReceiveAsync(back, "/chat/room", 6);
        Assert.Equal([.. missed, "live"], received.Select(m => m["data"]!.GetValue<string>()));
        AssertIncreasing(received);
        Assert.True(Offset(Position(received[0])) > Offset(last));
    }

    [Fact]
    public async Task LongPolling_ServerEndsTheSession_ClientRecoversInANewSession()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/chat/lp");
        await client.SendAsync(client.Connect(0));
        var first = await _server.PublishAsync("/chat/lp", 0);
        var delivered = (await client.SendAsync(client.Connect())).OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == "/chat/lp");
        Assert.Equal(first, Position(delivered));

        // The backend ends the session; its next connect is told to handshake.
        using (var kicked = await _server.DisconnectAsync(client.ClientId!))
        {
            Assert.Equal(HttpStatusCode.OK, kicked.StatusCode);
        }
        var lost = (await client.SendAsync(client.Connect(0)))[0]!;
        Assert.False(lost["successful"]!.GetValue<bool>());
        Assert.Equal("handshake", lost["advice"]!["reconnect"]!.GetValue<string>());
        for (var i = 1; i <= 4; i++)
        {
            await _server.PublishAsync("/chat/lp", i);
        }

        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, first, "/chat/lp");
        Assert.True(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        var replayed = await NextConnectEventsAsync(client, m => m["channel"]?.GetValue<string>() == "/chat/lp");
        Assert.Equal([1, 2, 3, 4], replayed.Select(m => m["data"]!.GetValue<int>()));
        AssertIncreasing(replayed);
        await _server.PublishAsync("/chat/lp", 5);
        var live = (await client.SendAsync(client.Connect())).OfType<JsonObject>().Where(m => m["channel"]?.GetValue<string>() == "/chat/lp").ToList();
        Assert.Equal([5], live.Select(m => m["data"]!.GetValue<int>()));
    }

    [Fact]
    public async Task BeyondRetention_RecoveredIsFalse_AndNothingPartialIsReplayed()
    {
        var start = await _server.PublishAsync("/small/x", 0);
        for (var i = 1; i <= 5; i++)
        {
            await _server.PublishAsync("/small/x", i); // Size=3: 1 and 2 are gone
        }
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, start, "/small/x");
        Assert.True(reply["successful"]!.GetValue<bool>());
        Assert.False(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        var top = reply["ext"]!["halley"]!["position"]!.GetValue<string>();
        await _server.PublishAsync("/small/x", 6);
        var events = await NextConnectEventsAsync(client, m => m["channel"]?.GetValue<string>() == "/small/x");
        Assert.Equal([6], events.Select(m => m["data"]!.GetValue<int>()));
        Assert.True(Offset(Position(events[0])) > Offset(top));
    }

    [Fact]
    public async Task APositionFromAnotherEpoch_IsNotRecovered()
    {
        var position = await _server.PublishAsync("/chat/epoch", 0);
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, "otherepoch:0", "/chat/epoch");
        Assert.False(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        Assert.Equal(Epoch(position!), Epoch(reply["ext"]!["halley"]!["position"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Wildcard_RecoversEveryMatchingChannel_IncludingOnesThatFirstAppearedWhileAway()
    {
        var last = await _server.PublishAsync("/stocks/ACME", 100);
        await _server.PublishAsync("/stocks/ACME", 101);
        await _server.PublishAsync("/stocks/NEWCO", 1); // a channel that did not exist before
        await _server.PublishAsync("/stocks/ACME", 102);
        await _server.PublishAsync("/stocks/deeper/X", 0); // /stocks/* does not reach it

        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, last, "/stocks/*");
        Assert.True(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        var events = await NextConnectEventsAsync(client, m => m["data"] is not null && m["successful"] is null);
        Assert.Equal(["/stocks/ACME:101", "/stocks/NEWCO:1", "/stocks/ACME:102"], events.Select(m => $"{m["channel"]}:{m["data"]}"));
        AssertIncreasing(events);
    }

    [Fact]
    public async Task OverlappingSubscriptions_InOneRequest_ReplayEachMessageOnce()
    {
        var last = await _server.PublishAsync("/chat/o/a", 0);
        await _server.PublishAsync("/chat/o/a", 1);
        await _server.PublishAsync("/chat/o/b", 2);
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, last, "/chat/o/a", "/chat/o/**", "/chat/o/*");
        Assert.True(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        var events = await NextConnectEventsAsync(client, m => m["successful"] is null);
        Assert.Equal([1, 2], events.Select(m => m["data"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AChannelSubscribedAfresh_IsStillReplayedFromAnOlderPosition_ByALaterWildcard()
    {
        var last = await _server.PublishAsync("/chat/f/a", 0);
        await _server.PublishAsync("/chat/f/a", 1);
        await _server.PublishAsync("/chat/f/b", 2);
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/chat/f/a");

        // The session holds /chat/f/a, but only from after 1: it never received 1, and /chat/f/a has had nothing
        // since, so the wildcard replays it, in order.
        var reply = await SubscribeFromAsync(client, last, "/chat/f/**");
        Assert.True(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        var events = await NextConnectEventsAsync(client, m => m["successful"] is null);
        Assert.Equal([1, 2], events.Select(m => m["data"]!.GetValue<int>()));
        AssertIncreasing(events);
    }

    [Fact]
    public async Task AChannelSubscribedAfresh_ThatDeliveredANewerMessage_IsNotRecoveredFromAnOlderPosition_ByALaterWildcard()
    {
        var last = await _server.PublishAsync("/chat/f/a", 0);
        await _server.PublishAsync("/chat/f/a", 1);
        await _server.PublishAsync("/chat/f/b", 2);
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/chat/f/a");
        var newer = await _server.PublishAsync("/chat/f/a", 3);

        // 1 could only come after 3, which the session already queued: out of order (and a client that drops what
        // is at or before its last position would drop it). Nothing is replayed, 2 included; what follows is live.
        var reply = await SubscribeFromAsync(client, last, "/chat/f/**");
        Assert.False(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.Equal(newer, reply["ext"]!["halley"]!["position"]!.GetValue<string>());
        await _server.PublishAsync("/chat/f/b", 4);
        var events = await NextConnectEventsAsync(client, m => m["successful"] is null);
        Assert.Equal([3, 4], events.Select(m => m["data"]!.GetValue<int>()));
        AssertIncreasing(events);
    }

    [Fact]
    public async Task AckExtension_AndRecovery_DeliverEachMessageOnce()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync(new JsonObject { ["ack"] = true });
        await client.SubscribeAsync("/chat/ack");
        await client.SendAsync(client.Connect(0, new JsonObject { ["ack"] = -1 }));
        await _server.PublishAsync("/chat/ack", 1);
        var batch = await client.SendAsync(client.Connect(null, new JsonObject { ["ack"] = 0 }));
        var first = batch.OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == "/chat/ack");
        var ackNumber = batch.OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == "/meta/connect")["ext"]!["ack"]!.GetValue<long>();
        await _server.PublishAsync("/chat/ack", 2);
        // The reply carrying 2 is "lost": the client does not acknowledge it, so the next connect redelivers it.
        var lostBatch = await client.SendAsync(client.Connect(null, new JsonObject { ["ack"] = ackNumber }));
        var lostNumber = lostBatch.OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == "/meta/connect")["ext"]!["ack"]!.GetValue<long>();
        var redelivered = await client.SendAsync(client.Connect(0, new JsonObject { ["ack"] = ackNumber }));
        var again = redelivered.OfType<JsonObject>().Where(m => m["channel"]?.GetValue<string>() == "/chat/ack").ToList();
        Assert.Equal([2], again.Select(m => m["data"]!.GetValue<int>()));
        Assert.True(lostNumber >= ackNumber);

        // Then the session is lost; a new one recovers from the last position the client processed (1's): it gets
        // 2 and 3 once each, and the ack machinery of the new session adds nothing twice.
        using (await _server.DisconnectAsync(client.ClientId!))
        {
        }
        await _server.PublishAsync("/chat/ack", 3);
        await client.HandshakeAsync(new JsonObject { ["ack"] = true });
        Assert.True((await SubscribeFromAsync(client, Position(first), "/chat/ack"))["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        var recovered = await client.SendAsync(client.Connect(0, new JsonObject { ["ack"] = -1 }));
        var ackAfter = recovered.OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == "/meta/connect")["ext"]?["ack"]?.GetValue<long>() ?? -1;
        var events = recovered.OfType<JsonObject>().Where(m => m["channel"]?.GetValue<string>() == "/chat/ack").ToList();
        var next = await client.SendAsync(client.Connect(0, new JsonObject { ["ack"] = ackAfter }));
        events.AddRange(next.OfType<JsonObject>().Where(m => m["channel"]?.GetValue<string>() == "/chat/ack"));
        Assert.Equal([2, 3], events.Select(m => m["data"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Sse_ClientCutsOff_LastEventIdResumesEveryChannelOfTheRequest()
    {
        var url = new Uri(_server.BaseAddress, "/sse?channel=/chat/s1&channel=/chat/s2");
        string lastId;
        await using (var stream = await LineStream.OpenAsync(url))
        {
            var start = await stream.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal));
            Assert.NotNull(start); // the starting position, before any event
            await _server.PublishAsync("/chat/s1", "a");
            lastId = (await stream.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal)))!.Value.Line["id: ".Length..];
            Assert.Contains("\"a\"", await stream.NextDataAsync());
        }
        await _server.PublishAsync("/chat/s2", "b");
        await _server.PublishAsync("/chat/other", "not subscribed");
        await _server.PublishAsync("/chat/s1", "c");

        await using var resumed = await LineStream.OpenAsync(url, lastEventId: lastId);
        Assert.Equal(HttpStatusCode.OK, resumed.Response.StatusCode);
        Assert.NotNull(await resumed.NextAsync(l => l == "event: recovery"));
        Assert.Equal("{\"recovered\":true}", await resumed.NextDataAsync());
        var b = await resumed.NextDataAsync();
        var c = await resumed.NextDataAsync();
        await _server.PublishAsync("/chat/s2", "d");
        var d = await resumed.NextDataAsync();
        Assert.Contains("\"data\":\"b\"", b);
        Assert.Contains("\"data\":\"c\"", c);
        Assert.Contains("\"data\":\"d\"", d);
    }

    [Fact]
    public async Task Sse_ServerEndsTheStreamAtItsLifetime_TheClientResumesWithoutLoss()
    {
        var url = new Uri(_server.BaseAddress, "/sse?channel=/chat/life");
        string? lastId = null;
        await using (var stream = await LineStream.OpenAsync(url))
        {
            lastId = (await stream.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal)))!.Value.Line["id: ".Length..];
            // The server closes it within 0.9–1.1 s with a retry: hint.
            Assert.NotNull(await stream.NextAsync(l => l.StartsWith("retry: ", StringComparison.Ordinal)));
            Assert.Null(await stream.NextAsync(l => l.Length > 0)); // then the response ends
        }
        await _server.PublishAsync("/chat/life", "while away");
        await using var resumed = await LineStream.OpenAsync(url, lastEventId: lastId);
        Assert.Equal("{\"recovered\":true}", await resumed.NextDataAsync());
        Assert.Contains("\"while away\"", await resumed.NextDataAsync());
    }

    [Fact]
    public async Task Sse_BeyondRetention_SaysNotRecovered_AndMovesTheClientToNow()
    {
        var start = await _server.PublishAsync("/small/sse", 0);
        for (var i = 1; i <= 4; i++)
        {
            await _server.PublishAsync("/small/sse", i);
        }
        await using var resumed = await LineStream.OpenAsync(new Uri(_server.BaseAddress, "/sse?channel=/small/sse"), lastEventId: start);
        var control = await resumed.NextDataAsync();
        Assert.StartsWith("{\"recovered\":false,\"position\":", control);
        Assert.NotNull(await resumed.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal)));
        await _server.PublishAsync("/small/sse", 5);
        Assert.Contains("\"data\":5", await resumed.NextDataAsync());
    }

    [Fact]
    public async Task Stream_LastEventIdQuery_ResumesNdjson()
    {
        var url = "/stream?channel=/chat/nd";
        string position;
        await using (var stream = await LineStream.OpenAsync(new Uri(_server.BaseAddress, url)))
        {
            var start = (await stream.NextAsync(_ => true))!.Value.Line;
            position = JsonNode.Parse(start)!["position"]!.GetValue<string>();
        }
        await _server.PublishAsync("/chat/nd", 1);
        await _server.PublishAsync("/chat/nd", 2);
        await using var resumed = await LineStream.OpenAsync(new Uri(_server.BaseAddress, url + "&lastEventId=" + Uri.EscapeDataString(position)));
        Assert.Equal("{\"recovered\":true}", (await resumed.NextAsync(_ => true))!.Value.Line);
        var one = JsonNode.Parse((await resumed.NextAsync(_ => true))!.Value.Line)!;
        var two = JsonNode.Parse((await resumed.NextAsync(_ => true))!.Value.Line)!;
        Assert.Equal(1, one["data"]!.GetValue<int>());
        Assert.Equal(2, two["data"]!.GetValue<int>());
        Assert.True(Offset(two["position"]!.GetValue<string>()) > Offset(one["position"]!.GetValue<string>()));
    }

    [Fact]
    public async Task HistoryApi_PagesThroughRetainedMessages()
    {
        var since = await _server.PublishAsync("/chat/h", 0);
        for (var i = 1; i <= 5; i++)
        {
            await _server.PublishAsync("/chat/h", i);
        }
        var (status, body) = await _server.GetAsync($"/api/history?channel=/chat/h&since={Uri.EscapeDataString(since!)}&limit=3");
        Assert.Equal(HttpStatusCode.OK, status);
        var page = JsonNode.Parse(body)!;
        Assert.Equal([1, 2, 3], page["messages"]!.AsArray().Select(m => m!["data"]!.GetValue<int>()));
        Assert.True(page["complete"]!.GetValue<bool>());
        Assert.True(page["more"]!.GetValue<bool>());
        var next = page["next"]!.GetValue<string>();
        var (_, rest) = await _server.GetAsync($"/api/history?channel=/chat/*&since={Uri.EscapeDataString(next)}");
        var second = JsonNode.Parse(rest)!;
        Assert.Equal([4, 5], second["messages"]!.AsArray().Select(m => m!["data"]!.GetValue<int>()));
        Assert.False(second["more"]!.GetValue<bool>());

        var (_, all) = await _server.GetAsync("/api/history?channel=/chat/h");
        Assert.Equal(6, JsonNode.Parse(all)!["messages"]!.AsArray().Count);
        Assert.Null(JsonNode.Parse(all)!["complete"]);
        // An empty since is no since, as an empty Last-Event-ID is.
        var (emptyStatus, fromEmpty) = await _server.GetAsync("/api/history?channel=/chat/h&since=");
        Assert.Equal(HttpStatusCode.OK, emptyStatus);
        Assert.Equal(6, JsonNode.Parse(fromEmpty)!["messages"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("/api/history", "Missing 'channel'")]
    [InlineData("/api/history?channel=/meta/x", "meta")]
    [InlineData("/api/history?channel=/chat/h&since=nonsense", "Invalid 'since'")]
    [InlineData("/api/history?channel=/chat/h&limit=0", "Invalid 'limit'")]
    [InlineData("/api/history?channel=/chat/h&limit=100000", "Invalid 'limit'")]
    [InlineData("/sse?channel=/chat/x&lastEventId=nonsense", "Invalid 'lastEventId'")]
    [InlineData("/stream?channel=/chat/x&lastEventId=a:b:c:-1", "Invalid 'lastEventId'")]
    public async Task BadPositionsAndLimits_Get400WithTheReason(string pathAndQuery, string reason)
    {
        var (status, body) = await _server.GetAsync(pathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(reason, body, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"nonsense\"")]
    [InlineData("\"abc:-5\"")]
    public async Task Subscribe_WithAMalformedPosition_IsRefusedWithoutSubscribing(string position)
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = await SubscribeFromAsync(client, JsonNode.Parse(position), "/chat/bad");
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal("400::invalid_position", reply["error"]!.GetValue<string>());
        await _server.PublishAsync("/chat/bad", 1);
        var events = await NextConnectEventsAsync(client, m => m["channel"]?.GetValue<string>() == "/chat/bad");
        Assert.Empty(events);
    }

    [Fact]
    public async Task DisconnectApi_UnknownClient_Is404_AndMalformedIs400()
    {
        using (var unknown = await _server.DisconnectAsync("nope"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        using var malformed = await http.PostAsync("/api/disconnect", new StringContent("[1]", System.Text.Encoding.UTF8, "application/json")).Within();
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    private Task<BayeuxSocket> OpenSubscribedSocketAsync(string channel) => BayeuxSocket.OpenSubscribedAsync(_server, channel);

    private static JsonObject SubscribeFrom(string channel, string position) => new()
    {
        ["channel"] = "/meta/subscribe",
        ["subscription"] = channel,
        ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = position } },
    };

    private static async Task<List<JsonObject>> ReceiveAsync(BayeuxSocket socket, string channel, int count)
    {
        var received = new List<JsonObject>();
        while (received.Count < count)
        {
            received.Add(await socket.WaitForAsync(IsEvent(channel)));
        }
        return received;
    }

    private static Func<JsonObject, bool> IsEvent(string channel) =>
        m => m["channel"]?.GetValue<string>() == channel && m["successful"] is null;

    private static string Position(JsonObject message) => message["ext"]!["halley"]!["position"]!.GetValue<string>();

    /// <summary>Sends a connect that is answered at once, and returns what came back with it that <paramref name="which"/> selects.</summary>
    private static async Task<List<JsonObject>> NextConnectEventsAsync(BayeuxHttp client, Func<JsonObject, bool> which) =>
        (await client.SendAsync(client.Connect(0))).OfType<JsonObject>().Where(which).ToList();

    /// <summary>Subscribes to <paramref name="channels"/> from <paramref name="position"/> (ext.halley.position); returns the reply.</summary>
    private static async Task<JsonNode> SubscribeFromAsync(BayeuxHttp client, JsonNode? position, params string[] channels)
    {
        var subscribe = client.Subscribe(channels);
        subscribe["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = position } };
        return (await client.SendAsync(subscribe))[0]!;
    }

    private static string Epoch(string position) => position[..position.LastIndexOf(':')];

    private static long Offset(string position) => long.Parse(position[(position.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private static void AssertIncreasing(List<JsonObject> messages)
    {
        for (var i = 1; i < messages.Count; i++)
        {
            Assert.True(Offset(Position(messages[i])) > Offset(Position(messages[i - 1])), "positions must increase");
        }
    }
}
