using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Testing;

namespace Halley.FunctionalTests.Clustering;

/// <summary>
/// Two real Halley nodes (each the composition of <c>halley serve</c>, on Kestrel at 127.0.0.1:0) sharing one real
/// redis-server through <c>Halley:Redis:Configuration</c>: what is published on one node reaches the subscribers of
/// the other, in order, once; and when Redis loses its data the positions start a new epoch, live subscribers are told
/// (their sessions end, so their clients resume), and an old position is answered <c>recovered: false</c>, never misread.
/// </summary>
public sealed class RedisClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private RedisServer _redis = null!;
    private TestServer _a = null!;
    private TestServer _b = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        string[] settings = [$"Halley:Redis:Configuration=127.0.0.1:{_redis.Port}", "Halley:History:Channels:/chat/**:Size=100"];
        _a = await TestServer.StartAsync(settings);
        _b = await TestServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task PublishedOnNodeB_ReachesSubscribersOnNodeA_ExactAndWildcard_InOrder_Once()
    {
        await using var exact = await OpenSubscribedSocketAsync(_a, "/chat/room");
        await using var wildcard = await OpenSubscribedSocketAsync(_a, "/chat/**");
        await using var plain = await OpenSubscribedSocketAsync(_a, "/plain/news");

        var positions = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            positions.Add((await _b.PublishAsync("/chat/room", i))!);
        }
        Assert.Null(await _b.PublishAsync("/plain/news", "no history"));
        await _b.PublishAsync("/chat/end", "end");

        foreach (var socket in new[] { exact, wildcard })
        {
            var received = new List<JsonObject>();
            for (var i = 0; i < 20; i++)
            {
                received.Add(await socket.WaitForAsync(IsEvent("/chat/room")));
            }
            Assert.Equal(Enumerable.Range(0, 20), received.Select(m => m["data"]!.GetValue<int>()));
            Assert.Equal(positions, received.Select(Position));
        }
        // The wildcard subscriber also gets /chat/end, after the others; nothing was handed twice before it.
        var end = await wildcard.WaitForAsync(m => m["channel"]?.GetValue<string>() is { } c && c.StartsWith("/chat/", StringComparison.Ordinal) && m["successful"] is null);
        Assert.Equal("/chat/end", end["channel"]!.GetValue<string>());
        Assert.Equal("no history", (await plain.WaitForAsync(IsEvent("/plain/news")))["data"]!.GetValue<string>());
        // Node A's history API reads what node B published (one history, in Redis).
        var (_, history) = await _a.GetAsync("/api/history?channel=/chat/room&limit=100");
        Assert.Equal(positions, JsonNode.Parse(history)!["messages"]!.AsArray().Select(m => m!["position"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("flush")]
    [InlineData("restart")]
    public async Task RedisLosesItsData_TheNextPublishHasANewEpoch_LiveSubscribersAreTold_AnOldPositionIsNotRecovered_AndLiveMessagesFlowAgain(string how)
    {
        await using var before = await OpenSubscribedSocketAsync(_a, "/chat/e");
        var old = (await _b.PublishAsync("/chat/e", "before"))!;
        Assert.Equal(old, Position(await before.WaitForAsync(IsEvent("/chat/e"))));
        var told = before.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/meta/connect" && m["successful"]?.GetValue<bool>() == false, Wait);

        if (how == "flush")
        {
            Assert.Equal("+OK", await _redis.CommandAsync("FLUSHALL"));
        }
        else
        {
            // Killed and started again with no persistence; the nodes' connections come back on their own
            // (StackExchange.Redis reconnects), and until node B's has, its publishes fail.
            await _redis.RestartAsync();
        }
        var fresh = await PublishUntilAsync(() => Task.FromResult(true), "after");
        Assert.NotNull(fresh);
        Assert.NotEqual(Epoch(old), Epoch(fresh));

        // What was published between the loss and node A's new declaration reached no node, and its history is gone:
        // node A learns the new epoch (its sweep probes Redis every second) and ends the session of its live
        // subscriber, which is told to handshake again and so resumes from its last position.
        var ended = await told;
        Assert.Equal("402::session_unknown", ended["error"]!.GetValue<string>());
        Assert.Equal("handshake", ended["advice"]!["reconnect"]!.GetValue<string>());

        await using var back = await BayeuxSocket.ConnectAsync(_a);
        await back.HandshakeAsync();
        var reply = await back.RequestAsync(new JsonObject
        {
            ["channel"] = "/meta/subscribe",
            ["subscription"] = "/chat/e",
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = old } },
        });
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.False(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        await back.ConnectAndHoldAsync();

        // Node A declared its interest again when it learned of the new epoch: the new session gets live messages.
        var arrived = back.WaitForAsync(IsEvent("/chat/e"), Wait);
        await PublishUntilAsync(async () => (await Task.WhenAny(arrived, Task.Delay(100))) == arrived, "live");
        Assert.Equal(Epoch(fresh), Epoch(Position(await arrived)));
    }

    [Fact]
    public async Task DuringARedisOutage_NodesAreNotReady_PublishesAnswer503_SubscribesAreToldToBackOff_SessionsStay_AndAllResumes()
    {
        await using var client = await BayeuxSocket.ConnectAsync(_a);
        await client.HandshakeAsync();
        using var http = new HttpClient { BaseAddress = _a.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").Within()).StatusCode);

        _redis.Stop();
        await Eventually(async () => (await http.GetAsync("/readyz").Within()).StatusCode == HttpStatusCode.ServiceUnavailable, "node A to report not ready");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz").Within()).StatusCode);

        // The backend is told to retry, not answered 200 for a message that went nowhere.
        using var publish = await http.PostAsync("/api/publish", JsonContent(new JsonObject { ["channel"] = "/chat/new", ["data"] = "lost?" })).Within();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, publish.StatusCode);
        Assert.True(publish.Headers.RetryAfter?.Delta > TimeSpan.Zero, publish.Headers.ToString());
        // A subscribe that needs Redis: a clear error and a jittered retry interval; the session itself stays.
        var refused = await client.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/chat/new" });
        Assert.False(refused["successful"]!.GetValue<bool>(), refused.ToJsonString());
        Assert.Equal("503::engine_unavailable", refused["error"]!.GetValue<string>());
        Assert.Equal("retry", refused["advice"]!["reconnect"]!.GetValue<string>());
        Assert.InRange(refused["advice"]!["interval"]!.GetValue<long>(), 1000, 5000);
        var connect = await client.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(connect["successful"]!.GetValue<bool>(), connect.ToJsonString());

        await _redis.StartAgainAsync();
        using var httpB = new HttpClient { BaseAddress = _b.BaseAddress };
        await Eventually(async () => (await http.GetAsync("/readyz").Within()).StatusCode == HttpStatusCode.OK, "node A to be ready again");
        await Eventually(async () => (await httpB.GetAsync("/readyz").Within()).StatusCode == HttpStatusCode.OK, "node B to be ready again");
        var again = await client.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/chat/new" });
        Assert.True(again["successful"]!.GetValue<bool>(), again.ToJsonString());
        await client.ConnectAndHoldAsync();
        var arrived = client.WaitForAsync(IsEvent("/chat/new"), Wait);
        await _b.PublishAsync("/chat/new", "back");
        Assert.Equal("back", (await arrived)["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task APublishRetriedOnAnotherNodeWithItsIdempotencyKey_IsDeliveredOnce_WithTheFirstPosition()
    {
        await using var socket = await OpenSubscribedSocketAsync(_a, "/chat/idem");
        var first = await PublishWithKeyAsync(_a, "/chat/idem", "once", "k-1");
        var retry = await PublishWithKeyAsync(_b, "/chat/idem", "once", "k-1");
        var end = await PublishWithKeyAsync(_b, "/chat/idem", "end", "k-2");

        Assert.True(retry["duplicate"]!.GetValue<bool>());
        Assert.Equal(first["position"]!.GetValue<string>(), retry["position"]!.GetValue<string>());
        var received = new List<string>();
        while (received.Count == 0 || received[^1] != "end")
        {
            received.Add((await socket.WaitForAsync(IsEvent("/chat/idem"), Wait))["data"]!.GetValue<string>());
        }
        Assert.Equal(["once", "end"], received);
        Assert.NotNull(end["position"]);
    }

    private static async Task<JsonNode> PublishWithKeyAsync(TestServer server, string channel, string data, string key)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = JsonContent(new JsonObject { ["channel"] = channel, ["data"] = data }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Presence_IsClusterWide_AndACrashedNodesMembersExpire()
    {
        await using var onA = await OpenSubscribedSocketAsync(_a, "/chat/here");
        var c = await TestServer.StartAsync([$"Halley:Redis:Configuration=127.0.0.1:{_redis.Port}", "Halley:History:Channels:/chat/**:Size=100", "Halley:Redis:PresenceTtl=00:00:03"]);
        var running = true;
        try
        {
            await using var onC = await OpenSubscribedSocketAsync(c, "/chat/here");

            // Either node answers for both: A's member and C's.
            var both = new[] { onA.ClientId, onC.ClientId }.Order(StringComparer.Ordinal).ToList();
            foreach (var node in new[] { _a, _b })
            {
                var presence = await PresenceApiTests.GetJsonAsync(node, "/api/presence?channel=/chat/here");
                Assert.Equal(both, presence["members"]!.AsArray().Select(m => m!["clientId"]!.GetValue<string>()));
            }
            Assert.Contains("/chat/here", (await PresenceApiTests.GetJsonAsync(_b, "/api/channels?pattern=/chat/**"))["channels"]!.AsArray().Select(x => x!["channel"]!.GetValue<string>()));

            // Node C stops without a word to Redis about its members (as a crash leaves them): its member expires
            // within C's TTL, A's stays (A refreshes its own).
            running = false;
            await c.DisposeAsync();
            Assert.Equal(2, (await PresenceApiTests.GetJsonAsync(_b, "/api/presence?channel=/chat/here"))["count"]!.GetValue<long>());
            await Eventually(async () => (await PresenceApiTests.GetJsonAsync(_b, "/api/presence?channel=/chat/here"))["count"]!.GetValue<long>() == 1, "node C's member to expire");
            var left = await PresenceApiTests.GetJsonAsync(_b, "/api/presence?channel=/chat/here");
            Assert.Equal(onA.ClientId, left["members"]![0]!["clientId"]!.GetValue<string>());
        }
        finally
        {
            if (running)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ASubscribeOnNodeA_ThenAPublishOnNodeB_IsNeverMissed()
    {
        // The cursor's promise across nodes: once the subscribe is answered, the very next publish anywhere reaches it.
        for (var i = 0; i < 10; i++)
        {
            await using var socket = await OpenSubscribedSocketAsync(_a, $"/chat/race{i}");
            await _b.PublishAsync($"/chat/race{i}", i);
            Assert.Equal(i, (await socket.WaitForAsync(IsEvent($"/chat/race{i}")))["data"]!.GetValue<int>());
        }
    }

    /// <summary>
    /// Publishes to <c>/chat/e</c> on node B until a publish succeeds and then <paramref name="done"/> says so (it
    /// waits for what it waits for, briefly); returns the last position.
    /// </summary>
    private async Task<string?> PublishUntilAsync(Func<Task<bool>> done, string data)
    {
        var deadline = DateTime.UtcNow + Wait;
        string? position = null;
        for (var i = 0; ; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Node B's publishes ({data}) did not get through.");
            position = await TryPublishAsync(_b, "/chat/e", $"{data} {i}") ?? position;
            if (position is not null && await done())
            {
                return position;
            }
            if (position is null)
            {
                await Task.Delay(100); // Node B's Redis connection is not back yet: try again shortly.
            }
        }
    }

    /// <summary>Publishes; null when the node answered an error (its Redis connection is not back yet).</summary>
    private static async Task<string?> TryPublishAsync(TestServer server, string channel, string data)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("/api/publish", JsonContent(new JsonObject { ["channel"] = channel, ["data"] = data })).Within();
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["position"]?.GetValue<string>() : null;
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static Task<BayeuxSocket> OpenSubscribedSocketAsync(TestServer server, string channel) => BayeuxSocket.OpenSubscribedAsync(server, channel);

    private static Func<JsonObject, bool> IsEvent(string channel) =>
        m => m["channel"]?.GetValue<string>() == channel && m["successful"] is null;

    private static string Position(JsonObject message) => message["ext"]!["halley"]!["position"]!.GetValue<string>();

    private static string Epoch(string position) => position[..position.LastIndexOf(':')];
}
