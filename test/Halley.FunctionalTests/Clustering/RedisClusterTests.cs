using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Testing;

namespace Halley.FunctionalTests.Clustering;

/// <summary>
/// Two real Halley nodes (each the composition of <c>halley serve</c>, on Kestrel at 127.0.0.1:0) sharing one real
/// redis-server through <c>Halley:Redis:Configuration</c>: what is published on one node reaches the subscribers of
/// the other, in order, once; and when Redis loses its data the positions start a new epoch, so an old position is
/// answered <c>recovered: false</c>, never misread.
/// </summary>
public sealed class RedisClusterTests : IAsyncLifetime
{
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

    [Fact]
    public async Task RedisLosesItsData_TheNextPublishHasANewEpoch_AndAnOldPositionIsNotRecovered()
    {
        await using var before = await OpenSubscribedSocketAsync(_a, "/chat/e");
        var old = (await _b.PublishAsync("/chat/e", "before"))!;
        Assert.Equal(old, Position(await before.WaitForAsync(IsEvent("/chat/e"))));

        Assert.Equal("+OK", await _redis.CommandAsync("FLUSHALL"));
        var fresh = (await _b.PublishAsync("/chat/e", "after the flush"))!;
        Assert.NotEqual(Epoch(old), Epoch(fresh));

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
        await ConnectAsync(back);

        // Node A declares its interest again once it learns of the new epoch (here from the recovery's read): live
        // messages flow again. Published until one arrives, since what went out before that is not for node A.
        var arrived = back.WaitForAsync(IsEvent("/chat/e"), TimeSpan.FromSeconds(20));
        for (var i = 0; !arrived.IsCompleted && i < 100; i++)
        {
            await _b.PublishAsync("/chat/e", "live " + i);
            await Task.WhenAny(arrived, Task.Delay(100));
        }
        var live = await arrived;
        Assert.StartsWith("live ", live["data"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(Epoch(fresh), Epoch(Position(live)));
    }

    [Fact]
    public async Task RedisRestartsWithoutPersistence_TheNodesReconnect_ANewEpochStarts_AndAnOldPositionIsNotRecovered()
    {
        await using var before = await OpenSubscribedSocketAsync(_a, "/chat/r");
        var old = (await _b.PublishAsync("/chat/r", "before"))!;
        Assert.Equal(old, Position(await before.WaitForAsync(IsEvent("/chat/r"))));

        await _redis.RestartAsync();
        // Node B's connection comes back on its own (StackExchange.Redis reconnects); until then a publish fails.
        string? fresh = null;
        for (var i = 0; fresh is null; i++)
        {
            Assert.True(i < 150, "Node B could not publish again after Redis restarted.");
            fresh = await TryPublishAsync(_b, "/chat/r", "after the restart");
            if (fresh is null)
            {
                await Task.Delay(100);
            }
        }
        Assert.NotEqual(Epoch(old), Epoch(fresh));

        await using var back = await BayeuxSocket.ConnectAsync(_a);
        await back.HandshakeAsync();
        var reply = await back.RequestAsync(new JsonObject
        {
            ["channel"] = "/meta/subscribe",
            ["subscription"] = "/chat/r",
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = old } },
        });
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.False(reply["ext"]!["halley"]!["recovered"]!.GetValue<bool>(), reply.ToJsonString());
        await ConnectAsync(back);

        // Both subscribers of node A get live messages again once node A has its subscription back and has declared
        // its interest in the new epoch.
        var arrived = Task.WhenAll(back.WaitForAsync(IsEvent("/chat/r"), TimeSpan.FromSeconds(20)), before.WaitForAsync(IsEvent("/chat/r"), TimeSpan.FromSeconds(20)));
        for (var i = 0; !arrived.IsCompleted && i < 150; i++)
        {
            await TryPublishAsync(_b, "/chat/r", "live " + i);
            await Task.WhenAny(arrived, Task.Delay(100));
        }
        foreach (var live in await arrived)
        {
            Assert.Equal(Epoch(fresh), Epoch(Position(live)));
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

    /// <summary>Publishes; null when the node answered an error (its Redis connection is not back yet).</summary>
    private static async Task<string?> TryPublishAsync(TestServer server, string channel, string data)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("/api/publish", JsonContent(new JsonObject { ["channel"] = channel, ["data"] = data })).Within();
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["position"]?.GetValue<string>() : null;
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static async Task<BayeuxSocket> OpenSubscribedSocketAsync(TestServer server, string channel)
    {
        var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync();
        var reply = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = channel });
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        await ConnectAsync(socket);
        return socket;
    }

    private static async Task ConnectAsync(BayeuxSocket socket)
    {
        var connect = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(connect["successful"]!.GetValue<bool>());
        // Hold the next connect so events are pushed at once.
        await socket.SendAsync(new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = socket.ClientId, ["connectionType"] = "websocket", ["id"] = socket.NextId() });
    }

    private static Func<JsonObject, bool> IsEvent(string channel) =>
        m => m["channel"]?.GetValue<string>() == channel && m["successful"] is null;

    private static string Position(JsonObject message) => message["ext"]!["halley"]!["position"]!.GetValue<string>();

    private static string Epoch(string position) => position[..position.LastIndexOf(':')];
}
