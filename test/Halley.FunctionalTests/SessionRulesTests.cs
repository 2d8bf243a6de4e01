using System.Diagnostics;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Sessions;

namespace Halley.FunctionalTests;

public sealed class SessionRulesTests
{
    [Fact]
    public async Task SessionWithoutConnect_ExpiresAfterMaxInterval_AndIsTold402()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxInterval=00:00:00.500", "Halley:SweepPeriod=00:00:00.050");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        var registry = server.Get<SessionRegistry>();
        Assert.True(registry.TryGet(client.ClientId, out _));

        await Timeouts.Until(() => !registry.TryGet(client.ClientId, out _), "the session expired");

        var reply = (await client.SendAsync(client.Connect(timeoutMs: 0)))[0]!;
        Assert.Equal("402::session_unknown", reply["error"]!.GetValue<string>());
        Assert.Equal("handshake", reply["advice"]!["reconnect"]!.GetValue<string>());
    }

    [Fact]
    public async Task SessionWithAHeldConnect_DoesNotExpire()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxInterval=00:00:00.300", "Halley:Timeout=00:00:01.500", "Halley:SweepPeriod=00:00:00.050");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SendAsync(client.Connect(timeoutMs: 0));
        // The held connect lasts 1.5 s, five times MaxInterval; the session must survive it.
        var batch = await client.SendAsync(client.Connect());
        Assert.True(batch[0]!["successful"]!.GetValue<bool>(), batch.ToJsonString());
        Assert.True(server.Get<SessionRegistry>().TryGet(client.ClientId, out _));
    }

    [Fact]
    public async Task FullQueue_WithDisconnectPolicy_EndsTheSession()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxQueue=5");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/flood");
        for (var i = 0; i < 6; i++)
        {
            await server.PublishAsync("/flood", i);
        }
        Assert.False(server.Get<SessionRegistry>().TryGet(client.ClientId, out _));
        var reply = (await client.SendAsync(client.Connect(timeoutMs: 0)))[0]!;
        Assert.Equal("402::session_unknown", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task FullQueue_WithDropOldestPolicy_KeepsTheNewest()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxQueue=5", "Halley:QueueFullPolicy=DropOldest");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/flood");
        for (var i = 0; i < 8; i++)
        {
            await server.PublishAsync("/flood", i);
        }
        var events = (await client.SendAsync(client.Connect(timeoutMs: 0))).Skip(1).Select(e => e!["data"]!.GetValue<int>());
        Assert.Equal([3, 4, 5, 6, 7], events);
    }

    [Fact]
    public async Task LazyMessage_IsFlushedWithinMaxLazyTimeout_NotAtOnceAndNotAtTheConnectTimeout()
    {
        await using var server = await TestServer.StartAsync("Halley:LazyChannels:0=/lazy/**", "Halley:MaxLazyTimeout=00:00:01", "Halley:Timeout=00:00:20", "Halley:SweepPeriod=00:00:00.050");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/lazy/**");
        await client.SendAsync(client.Connect(timeoutMs: 0));

        var held = client.SendAsync(client.Connect());
        await Timeouts.Until(() => server.Get<SessionRegistry>().TryGet(client.ClientId, out var s) && s.HasHeldConnect, "the connect is held");
        var clock = Stopwatch.StartNew();
        await server.PublishAsync("/lazy/prices", 42);
        var batch = await held.Within(TimeSpan.FromSeconds(10));

        Assert.Equal(42, batch[1]!["data"]!.GetValue<int>());
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"a lazy message woke the connect after {clock.Elapsed}");
    }

    [Fact]
    public async Task LazyMessage_TravelsWithTheNextNonLazyOne_InOrder()
    {
        await using var server = await TestServer.StartAsync("Halley:LazyChannels:0=/lazy/**", "Halley:MaxLazyTimeout=00:00:30");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/lazy/**", "/eager");
        await client.SendAsync(client.Connect(timeoutMs: 0));
        var held = client.SendAsync(client.Connect());
        await Timeouts.Until(() => server.Get<SessionRegistry>().TryGet(client.ClientId, out var s) && s.HasHeldConnect, "the connect is held");

        await server.PublishAsync("/lazy/a", "lazy");
        await server.PublishAsync("/eager", "eager");

        var events = (await held.Within()).Skip(1).Select(e => e!["data"]!.GetValue<string>());
        Assert.Equal(["lazy", "eager"], events);
    }

    [Fact]
    public async Task Timesync_RepliesWithServerTime()
    {
        await using var server = await TestServer.StartAsync();
        using var client = new BayeuxHttp(server);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var reply = await client.HandshakeAsync(new JsonObject { ["timesync"] = new JsonObject { ["tc"] = before, ["l"] = 0, ["o"] = 0 } });
        var timesync = reply["ext"]!["timesync"]!;
        Assert.Equal(before, timesync["tc"]!.GetValue<long>());
        Assert.InRange(timesync["ts"]!.GetValue<long>(), before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        Assert.True(timesync["p"]!.GetValue<long>() >= 0);
    }
}
