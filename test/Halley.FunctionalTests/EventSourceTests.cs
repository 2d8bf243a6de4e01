using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Streaming;
using Halley.Sessions;

namespace Halley.FunctionalTests;

/// <summary>Faye's <c>eventsource</c> connection type: <c>GET /cometd/{clientId}</c> streams the session's messages.</summary>
public sealed class EventSourceTests
{
    /// <summary>Opens a session's stream as a browser's <c>EventSource</c> does: the cookie of its handshake, <c>Accept: text/event-stream</c>.</summary>
    /// <remarks>With <paramref name="lastEventId"/>, as it reconnects: the id of the last event it received.</remarks>
    private static Task<LineStream> OpenStreamAsync(TestServer server, string clientId, string? cookie, string? lastEventId = null) =>
        LineStream.OpenAsync(new Uri(server.BaseAddress, "/cometd/" + clientId), configure: request =>
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (cookie is not null)
            {
                request.Headers.Add("Cookie", cookie);
            }
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }
        });

    private static string CookieOf(TestServer server, BayeuxHttp client) => client.Cookies.GetCookieHeader(server.BaseAddress);

    private static JsonObject EventSourceConnect(BayeuxHttp client)
    {
        var connect = client.Connect();
        connect["connectionType"] = "eventsource";
        return connect;
    }

    /// <summary>The next event's Bayeux array.</summary>
    private static async Task<JsonArray> NextBatchAsync(LineStream stream, TimeSpan? timeout = null) =>
        JsonNode.Parse(await stream.NextDataAsync(timeout))!.AsArray();

    private static async Task<BayeuxHttp> SubscribedClientAsync(TestServer server, string channel)
    {
        var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync(channel);
        return client;
    }

    [Fact]
    public async Task Stream_PushesTheSessionsMessages_AndEventSourceConnectsAreAnsweredAtOnce()
    {
        await using var server = await TestServer.StartAsync("Halley:Timeout=00:00:30");
        using var client = await SubscribedClientAsync(server, "/es/**");
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType!.MediaType);
        Assert.True(stream.Response.Headers.CacheControl is { NoCache: true, NoTransform: true });
        Assert.Equal("no", stream.Response.Headers.GetValues("X-Accel-Buffering").Single());

        await server.PublishAsync("/es/a", new JsonObject { ["n"] = 1 });
        var batch = await NextBatchAsync(stream);
        var message = Assert.Single(batch)!;
        Assert.Equal("/es/a", message["channel"]!.GetValue<string>());
        Assert.Equal(1, message["data"]!["n"]!.GetValue<int>());

        // The connect is not held, even with nothing to deliver, and its reply carries no events: they use the stream.
        await server.PublishAsync("/es/b", 2);
        var clock = Stopwatch.StartNew();
        var reply = await client.SendAsync(EventSourceConnect(client));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        var connect = Assert.Single(reply)!;
        Assert.True(connect["successful"]!.GetValue<bool>(), connect.ToJsonString());
        Assert.Equal("retry", connect["advice"]!["reconnect"]!.GetValue<string>());
        Assert.Equal(30000, connect["advice"]!["interval"]!.GetValue<long>());
        Assert.Equal(0, connect["advice"]!["timeout"]!.GetValue<long>());
        Assert.Equal(2, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
    }

    [Fact]
    public async Task AReconnectingStream_GetsAgainWhatWentIntoTheDeadOne_FromItsLastEventId()
    {
        await using var server = await TestServer.StartAsync("Halley:History:Channels:/es/**:Size=100");
        using var client = await SubscribedClientAsync(server, "/es/resume");
        string firstId;
        await using (var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client)))
        {
            await server.PublishAsync("/es/resume", 1);
            firstId = (await stream.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal)))!.Value.Line["id: ".Length..];
            Assert.Equal(1, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
            // 2 is written to this stream; the client is to behave as if the connection died before it arrived.
            await server.PublishAsync("/es/resume", 2);
            Assert.Equal(2, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
        }
        await server.PublishAsync("/es/resume", 3); // queued in the session meanwhile

        await using var resumed = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client), firstId);
        Assert.Equal(HttpStatusCode.OK, resumed.Response.StatusCode);
        var again = await NextBatchAsync(resumed);
        Assert.Equal([2, 3], again.Select(m => m!["data"]!.GetValue<int>()));
        await server.PublishAsync("/es/resume", 4);
        Assert.Equal(4, Assert.Single(await NextBatchAsync(resumed))!["data"]!.GetValue<int>());
    }

    [Fact]
    public async Task AResumedStream_SendsAgainOnlyWhatFitsInTheSessionsQueue_TheNewest()
    {
        await using var server = await TestServer.StartAsync("Halley:History:Channels:/es/**:Size=100", "Halley:MaxQueue=3");
        using var client = await SubscribedClientAsync(server, "/es/full");
        string firstId;
        await using (var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client)))
        {
            await server.PublishAsync("/es/full", 1);
            firstId = (await stream.NextAsync(l => l.StartsWith("id: ", StringComparison.Ordinal)))!.Value.Line["id: ".Length..];
            Assert.Equal(1, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
            for (var i = 2; i <= 4; i++)
            {
                await server.PublishAsync("/es/full", i);
                Assert.Equal(i, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
            }
        }
        await server.PublishAsync("/es/full", 5); // queued in the session meanwhile

        // 2, 3 and 4 went into the dead stream, but with 5 queued only two of them fit in a queue of 3.
        await using var resumed = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client), firstId);
        Assert.Equal([3, 4, 5], (await NextBatchAsync(resumed)).Select(m => m!["data"]!.GetValue<int>()));
        await server.PublishAsync("/es/full", 6);
        Assert.Equal(6, Assert.Single(await NextBatchAsync(resumed))!["data"]!.GetValue<int>());
    }

    [Fact]
    public async Task AMalformedLastEventId_Is400()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/bad");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cometd/" + client.ClientId + "?lastEventId=nonsense");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Cookie", CookieOf(server, client));
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("lastEventId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MessagesQueuedTogether_GoInOneEvent_InOrder()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/order");
        for (var i = 0; i < 5; i++)
        {
            await server.PublishAsync("/es/order", i);
        }

        // Queued before the stream opened: the stream's first event holds all of them.
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        var batch = await NextBatchAsync(stream);
        Assert.Equal([0, 1, 2, 3, 4], batch.Select(m => m!["data"]!.GetValue<int>()));
    }

    [Fact]
    public async Task UnknownClientId_Is404()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/x");
        await using var stream = await OpenStreamAsync(server, "0123456789abcdef0123456789abcdef", CookieOf(server, client));
        await AssertPlainTextErrorAsync(stream.Response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task MissingClientId_Is400()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cometd/");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request).Within();
        await AssertPlainTextErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithoutTheSessionsBrowserCookie_Is403_AndTheSessionKeepsWorking(bool otherBrowser)
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/mine");
        using var stranger = new BayeuxHttp(server);
        await stranger.HandshakeAsync();
        await using var refused = await OpenStreamAsync(server, client.ClientId!, otherBrowser ? CookieOf(server, stranger) : null);
        await AssertPlainTextErrorAsync(refused.Response, HttpStatusCode.Forbidden);

        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        await server.PublishAsync("/es/mine", "still mine");
        Assert.Equal("still mine", Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("PUT")]
    [InlineData("HEAD")]
    public async Task MethodOtherThanGet_Is405(string method)
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/x");
        using var request = new HttpRequestMessage(new HttpMethod(method), "/cometd/" + client.ClientId);
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Cookie", CookieOf(server, client));
        using var response = await client.Http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task AckSession_Is409()
    {
        await using var server = await TestServer.StartAsync();
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync(new JsonObject { ["ack"] = true });
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        await AssertPlainTextErrorAsync(stream.Response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task GetWithoutEventStream_IsStillCallbackPolling()
    {
        // CometD appends /connect and the like to its URL; its JSONP GETs must not be taken for streams.
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var message = Uri.EscapeDataString("""[{"channel":"/meta/handshake","version":"1.0","id":"1"}]""");
        using var response = await http.GetAsync($"/cometd/handshake?jsonp=cb&message={message}").Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"successful\":true", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ASecondStream_TakesOver_AndTheFirstEnds()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/two");
        var cookie = CookieOf(server, client);
        await using var first = await OpenStreamAsync(server, client.ClientId!, cookie);
        await using var second = await OpenStreamAsync(server, client.ClientId!, cookie);

        Assert.Null(await first.NextAsync(_ => false)); // ended by the server
        await server.PublishAsync("/es/two", 2);
        Assert.Equal(2, Assert.Single(await NextBatchAsync(second))!["data"]!.GetValue<int>());
    }

    [Fact]
    public async Task AtTheEndOfItsLifetime_TheStreamEndsWithRetry_AndMessagesWaitInTheSessionForTheNextStream()
    {
        await using var server = await TestServer.StartAsync(
            "Halley:MaxConnectionLifetime=00:00:00.500", "Halley:SweepPeriod=00:00:00.020", "Halley:Streaming:RetryDelay=00:00:02");
        using var client = await SubscribedClientAsync(server, "/es/life");
        var cookie = CookieOf(server, client);
        await using (var first = await OpenStreamAsync(server, client.ClientId!, cookie))
        {
            Assert.Equal("retry: 2000", (await first.NextAsync(l => l.StartsWith("retry:", StringComparison.Ordinal)))!.Value.Line);
            Assert.Null(await first.NextAsync(_ => false));
        }

        // No stream now: published messages stay queued in the session.
        await server.PublishAsync("/es/life", "a");
        await server.PublishAsync("/es/life", "b");
        Assert.True(server.Get<SessionRegistry>().TryGet(client.ClientId, out var session));
        Assert.Equal(2, session.QueuedCount);

        await using var next = await OpenStreamAsync(server, client.ClientId!, cookie);
        Assert.Equal(["a", "b"], (await NextBatchAsync(next)).Select(m => m!["data"]!.GetValue<string>()));
    }

    [Fact]
    public async Task EveryStream_StartsWithAnOpenComment_AtOnce_WithNothingPublished()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/open");
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        // The first line, before any message or heartbeat: what a client's stream-sense waits for.
        Assert.Equal(":open", (await stream.NextAsync(_ => true, TimeSpan.FromSeconds(5)))!.Value.Line);
    }

    [Fact]
    public async Task PadQuery_PadsTheStartAndEveryWrite()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/pad");
        await using var stream = await OpenStreamAsync(server, client.ClientId! + "?pad=300", CookieOf(server, client));
        Assert.Equal(":open", (await stream.NextAsync(_ => true))!.Value.Line);
        // One comment line of exactly 300 bytes, newline included.
        Assert.Equal(":" + new string(' ', 298), (await stream.NextAsync(l => l.Length > 0))!.Value.Line);
        await server.PublishAsync("/es/pad", 1);
        Assert.Equal(1, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());
        Assert.Equal(":" + new string(' ', 298), (await stream.NextAsync(l => l.Length > 0))!.Value.Line);
    }

    [Theory]
    [InlineData("pad=x")]
    [InlineData("pad=-1")]
    [InlineData("pad=70000")]
    [InlineData("pad=1&pad=2")]
    public async Task AnInvalidPad_Is400(string query)
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/badpad");
        await using var stream = await OpenStreamAsync(server, client.ClientId! + "?" + query, CookieOf(server, client));
        await AssertPlainTextErrorAsync(stream.Response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("long-polling")]
    [InlineData("callback-polling")]
    public async Task APollingConnect_ReleasesTheStream_WhichEnds_AndTheConnectTakesWhatComesNext(string connectionType)
    {
        await using var server = await TestServer.StartAsync("Halley:Timeout=00:00:30");
        using var client = await SubscribedClientAsync(server, "/es/moved");
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        await server.PublishAsync("/es/moved", 1);
        Assert.Equal(1, Assert.Single(await NextBatchAsync(stream))!["data"]!.GetValue<int>());

        // The client gave up its stream (a proxy held it): its next connect polls.
        var connect = client.Connect();
        connect["connectionType"] = connectionType;
        var held = client.SendAsync(connect);
        Assert.Null(await stream.NextAsync(_ => false)); // ended by the server
        await server.PublishAsync("/es/moved", 2);
        var reply = await held.Within();
        Assert.Contains(reply, m => m?["channel"]?.GetValue<string>() == "/es/moved" && m["data"]!.GetValue<int>() == 2);
    }

    [Fact]
    public async Task QuietStream_GetsCommentHeartbeats()
    {
        await using var server = await TestServer.StartAsync("Halley:HeartbeatInterval=00:00:00.200", "Halley:SweepPeriod=00:00:00.020");
        using var client = await SubscribedClientAsync(server, "/es/quiet");
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        Assert.NotNull(await stream.NextAsync(l => l == ":", TimeSpan.FromSeconds(5)));
        Assert.NotNull(await stream.NextAsync(l => l == ":", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Disconnect_EndsTheStream()
    {
        await using var server = await TestServer.StartAsync();
        using var client = await SubscribedClientAsync(server, "/es/bye");
        await using var stream = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));

        await client.SendAsync(client.Disconnect());

        Assert.Null(await stream.NextAsync(_ => false));
        await using var again = await OpenStreamAsync(server, client.ClientId!, CookieOf(server, client));
        Assert.Equal(HttpStatusCode.NotFound, again.Response.StatusCode);
    }

    private static async Task AssertPlainTextErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(await response.Content.ReadAsStringAsync()));
    }
}
