using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

public sealed class LongPollingTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Halley:Timeout=00:00:02", "Halley:SweepPeriod=00:00:00.050");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Handshake_ReturnsEveryBayeuxField_AndSetsTheBrowserCookie()
    {
        using var client = new BayeuxHttp(_server);
        var reply = await client.HandshakeAsync();

        Assert.Equal("/meta/handshake", reply["channel"]!.GetValue<string>());
        Assert.Equal("1", reply["id"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{32}$", reply["clientId"]!.GetValue<string>());
        Assert.Equal("1.0", reply["version"]!.GetValue<string>());
        Assert.Contains("long-polling", reply["supportedConnectionTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("websocket", reply["supportedConnectionTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        var advice = reply["advice"]!;
        Assert.Equal("retry", advice["reconnect"]!.GetValue<string>());
        Assert.Equal(2000, advice["timeout"]!.GetValue<long>());
        Assert.Equal(0, advice["interval"]!.GetValue<long>());
        Assert.Equal(10000, advice["maxInterval"]!.GetValue<long>());
        var cookie = client.Cookies.GetCookies(_server.BaseAddress)["BAYEUX_BROWSER"];
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly);
    }

    [Fact]
    public async Task HeldConnect_ReturnsWhenAMessageIsPublished_RepliesFirstThenEvents()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/news/today");
        await client.SendAsync(client.Connect(timeoutMs: 0));

        var connect = client.Connect();
        var held = client.SendAsync(connect);
        await _server.PublishAsync("/news/today", new JsonObject { ["headline"] = "hello" });
        var batch = await held.Within();

        Assert.Equal(2, batch.Count);
        Assert.Equal("/meta/connect", batch[0]!["channel"]!.GetValue<string>());
        Assert.Equal(connect["id"]!.GetValue<string>(), batch[0]!["id"]!.GetValue<string>());
        Assert.True(batch[0]!["successful"]!.GetValue<bool>());
        Assert.Equal("/news/today", batch[1]!["channel"]!.GetValue<string>());
        Assert.Equal("hello", batch[1]!["data"]!["headline"]!.GetValue<string>());
        Assert.Null(batch[1]!["successful"]);
    }

    [Fact]
    public async Task HeldConnect_WithNothingToSend_RepliesAtTheTimeout()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SendAsync(client.Connect(timeoutMs: 0));

        var clock = Stopwatch.StartNew();
        var batch = await client.SendAsync(client.Connect());

        Assert.Single(batch);
        Assert.True(batch[0]!["successful"]!.GetValue<bool>());
        Assert.Equal("retry", batch[0]!["advice"]!["reconnect"]!.GetValue<string>());
        // Held for the configured 2 s (less one sweep period of precision), not answered at once.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1900), $"returned after {clock.Elapsed}");
    }

    [Fact]
    public async Task ClientAdviceTimeoutZero_RepliesAtOnce()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var clock = Stopwatch.StartNew();
        var batch = await client.SendAsync(client.Connect(timeoutMs: 0));
        Assert.True(batch[0]!["successful"]!.GetValue<bool>());
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(1900), $"returned after {clock.Elapsed}");
    }

    [Fact]
    public async Task SecondConcurrentConnect_ReleasesTheFirstWithAnEmpty500()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SendAsync(client.Connect(timeoutMs: 0));

        var first = client.PostRawAsync(new JsonArray(client.Connect()).ToJsonString());
        await Timeouts.Until(() => _server.Get<Halley.Sessions.SessionRegistry>().TryGet(client.ClientId, out var s) && HasHeldConnect(s), "the first connect is held");
        var second = client.SendAsync(client.Connect());

        using var firstResponse = await first.Within();
        Assert.Equal(HttpStatusCode.InternalServerError, firstResponse.StatusCode);
        Assert.Equal("", await firstResponse.Content.ReadAsStringAsync());
        var secondBatch = await second.Within();
        Assert.True(secondBatch[0]!["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Disconnect_WakesTheHeldConnect_WithReconnectNone()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SendAsync(client.Connect(timeoutMs: 0));
        var held = client.SendAsync(client.Connect());
        await Timeouts.Until(() => _server.Get<Halley.Sessions.SessionRegistry>().TryGet(client.ClientId, out var s) && HasHeldConnect(s), "the connect is held");

        var disconnect = await client.SendAsync(client.Disconnect());
        Assert.True(disconnect[0]!["successful"]!.GetValue<bool>());

        var connectReply = (await held.Within())[0]!;
        Assert.Equal("none", connectReply["advice"]!["reconnect"]!.GetValue<string>());
        var after = (await client.SendAsync(client.Connect(timeoutMs: 0)))[0]!;
        Assert.Equal("402::session_unknown", after["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownSession_Gets402_WithHandshakeAdvice()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var connect = client.Connect(timeoutMs: 0);
        connect["clientId"] = "00000000000000000000000000000000";
        var reply = (await client.SendAsync(connect))[0]!;
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal("402::session_unknown", reply["error"]!.GetValue<string>());
        Assert.Equal("handshake", reply["advice"]!["reconnect"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnotherBrowser_CannotUseTheSession_ButTheHandshakeTokenCan()
    {
        using var owner = new BayeuxHttp(_server);
        var handshake = await owner.HandshakeAsync();
        using var stranger = new BayeuxHttp(_server);
        var foreign = owner.Connect(timeoutMs: 0);
        var refused = (await stranger.SendAsync(foreign))[0]!;
        Assert.Equal("402::session_unknown", refused["error"]!.GetValue<string>());

        var withToken = owner.Connect(timeoutMs: 0, ext: new JsonObject { ["halley"] = new JsonObject { ["token"] = handshake["ext"]!["halley"]!["token"]!.GetValue<string>() } });
        var accepted = (await stranger.SendAsync(withToken))[0]!;
        Assert.True(accepted["successful"]!.GetValue<bool>(), accepted.ToJsonString());
    }

    [Fact]
    public async Task CometdStylePaths_RouteToTheEndpoint()
    {
        using var client = new BayeuxHttp(_server);
        using var response = await client.PostRawAsync("""[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"7"}]""", path: "/cometd/handshake");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"successful\":true", await response.Content.ReadAsStringAsync());
        using var slash = await client.PostRawAsync("[]", path: "/cometd/");
        Assert.Equal("[]", await slash.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FormFieldMessage_IsAcceptedWhateverTheContentType()
    {
        using var client = new BayeuxHttp(_server);
        var body = "message=" + Uri.EscapeDataString("""[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"f"}]""");
        foreach (var type in new[] { "application/x-www-form-urlencoded", "text/plain" })
        {
            using var response = await client.PostRawAsync(body, type);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reply = JsonNode.Parse(await response.Content.ReadAsStringAsync())![0]!;
            Assert.True(reply["successful"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task Wildcards_OneSegmentAndAnyDepth_AndEachMessageOnce()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/w/*", "/w/**", "/w/a");
        await client.SendAsync(client.Connect(timeoutMs: 0));
        await _server.PublishAsync("/w/a", 1);
        await _server.PublishAsync("/w/a/b", 2);
        await _server.PublishAsync("/wx/a", 3);
        await _server.PublishAsync("/w", 4);

        var events = (await client.SendAsync(client.Connect())).Skip(1).Select(e => e!["data"]!.GetValue<int>()).ToList();
        Assert.Equal([1, 2], events);
    }

    [Fact]
    public async Task ServiceChannel_RepliesToTheCallerOnly()
    {
        using var caller = new BayeuxHttp(_server);
        await caller.HandshakeAsync();
        await caller.SubscribeAsync("/**");
        var reply = (await caller.SendAsync(caller.Publish("/service/echo", new JsonObject { ["ping"] = 1 })))[0]!;
        Assert.True(reply["successful"]!.GetValue<bool>());
        Assert.Equal(1, reply["data"]!["ping"]!.GetValue<int>());

        // Not broadcast: a /** subscriber's connect has nothing but its own reply.
        var batch = await caller.SendAsync(caller.Connect(timeoutMs: 0));
        Assert.Single(batch);
    }

    private static bool HasHeldConnect(Halley.Sessions.BayeuxSession session) => session.HasHeldConnect;
}
