using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Halley.Engine;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Streaming;

public sealed class StreamingTests
{
    private static Uri Url(TestServer server, string pathAndQuery) => new(server.BaseAddress, pathAndQuery);

    private static Task WaitSubscribedAsync(TestServer server, int keys = 1) =>
        Timeouts.Until(() => server.Get<MessageHub>().SubscribedKeyCount >= keys, "the stream subscribed");

    [Fact]
    public async Task Sse_DeliversMatchingEvents_WithAntiBufferingHeaders()
    {
        await using var server = await TestServer.StartAsync();
        await using var sse = await LineStream.OpenAsync(Url(server, "/sse?channel=/chat/*&channel=/news/**"));
        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType!.MediaType);
        Assert.True(sse.Response.Headers.CacheControl is { NoCache: true, NoTransform: true });
        Assert.Equal("no", sse.Response.Headers.GetValues("X-Accel-Buffering").Single());
        await WaitSubscribedAsync(server, 2);

        await server.PublishAsync("/other", 0);
        await server.PublishAsync("/chat/room1", new JsonObject { ["text"] = "hi" });
        await server.PublishAsync("/news/a/b", 2);

        Assert.Equal("""{"channel":"/chat/room1","data":{"text":"hi"}}""", await sse.NextDataAsync());
        Assert.Equal("""{"channel":"/news/a/b","data":2}""", await sse.NextDataAsync());
    }

    [Fact]
    public async Task Stream_Ndjson_DeliversOneJsonObjectPerLine()
    {
        await using var server = await TestServer.StartAsync();
        await using var stream = await LineStream.OpenAsync(Url(server, "/stream?channel=/a/**"));
        Assert.Equal("application/x-ndjson", stream.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no", stream.Response.Headers.GetValues("X-Accel-Buffering").Single());
        await WaitSubscribedAsync(server);

        await server.PublishAsync("/a/b", new JsonArray(1, 2));
        var line = await stream.NextAsync(l => l.Length > 0);
        Assert.Equal("""{"channel":"/a/b","data":[1,2]}""", line!.Value.Line);
    }

    [Fact]
    public async Task Stream_Html_CallsTheCallback_AndPayloadsCannotEndTheScript()
    {
        await using var server = await TestServer.StartAsync();
        await using var frame = await LineStream.OpenAsync(Url(server, "/stream?channel=/a&format=html&callback=parent.onEvent"));
        Assert.Equal("text/html", frame.Response.Content.Headers.ContentType!.MediaType);
        await WaitSubscribedAsync(server);

        await server.PublishAsync("/a", "</script><script>alert(1)</script><!--\u2028&");
        var line = (await frame.NextAsync(l => l.StartsWith("<script>", StringComparison.Ordinal)))!.Value.Line;
        Assert.StartsWith("<script>parent.onEvent({", line);
        Assert.EndsWith(");</script>", line);
        var inner = line["<script>parent.onEvent(".Length..^");</script>".Length];
        Assert.DoesNotContain("<", inner);
        Assert.DoesNotContain("\u2028", inner);
        Assert.Equal("</script><script>alert(1)</script><!--\u2028&", JsonNode.Parse(inner)!["data"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/sse")]
    [InlineData("/sse?channel=")]
    [InlineData("/sse?channel=no-slash")]
    [InlineData("/sse?channel=/a/**/b")]
    [InlineData("/sse?channel=/a%3Cb")]
    [InlineData("/sse?channel=/meta/connect")]
    [InlineData("/sse?channel=/meta/**")]
    [InlineData("/sse?channel=/service/echo")]
    [InlineData("/sse?channel=/a&channel=/b&channel=/c")]
    [InlineData("/sse?channel=/a&pad=-1")]
    [InlineData("/sse?channel=/a&pad=x")]
    [InlineData("/sse?channel=/a&pad=100000")]
    [InlineData("/stream?channel=/meta/x")]
    [InlineData("/stream?channel=/a&format=xml")]
    [InlineData("/stream?channel=/a&format=html")]
    [InlineData("/stream?channel=/a&format=html&callback=alert(1)")]
    [InlineData("/stream?channel=/a&format=html&callback=a%3C/script%3E")]
    [InlineData("/stream?channel=/a&format=html&callback=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("/stream?channel=/a&format=html&callback=cb%0A")]
    public async Task BadRequests_Get400_WithAPlainTextReason(string pathAndQuery)
    {
        await using var server = await TestServer.StartAsync("Halley:Streaming:MaxChannelsPerRequest=2");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(pathAndQuery).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(await response.Content.ReadAsStringAsync()));
        Assert.Equal(0, server.Get<MessageHub>().SubscribedKeyCount);
    }

    [Theory]
    [InlineData("POST", "/sse?channel=/a")]
    [InlineData("PUT", "/sse?channel=/a")]
    [InlineData("DELETE", "/stream?channel=/a")]
    [InlineData("POST", "/stream?channel=/a")]
    public async Task MethodsOtherThanGetAndHead_Get405_NamingBoth(string method, string pathAndQuery)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery) { Content = new StringContent("") };
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/sse?channel=/a", "text/event-stream")]
    [InlineData("/stream?channel=/a", "application/x-ndjson")]
    [InlineData("/stream?channel=/a&format=html&callback=cb", "text/html")]
    public async Task Head_Gets200_WithGetsHeaders_AndNoBody_AndSubscribesNothing(string pathAndQuery, string mediaType)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Head, pathAndQuery);
        // The whole response is read: a HEAD that started a stream would never end, and Within() would fail.
        using var response = await http.SendAsync(request).Within();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.True(response.Headers.CacheControl is { NoCache: true, NoTransform: true });
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync().Within());
        Assert.Equal(0, server.Get<MessageHub>().SubscribedKeyCount);
    }

    [Theory]
    [InlineData("/sse?channel=/meta/connect")]
    [InlineData("/stream?channel=/a&format=xml")]
    public async Task Head_OfABadRequest_Gets400_AsGetWould(string pathAndQuery)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Head, pathAndQuery);
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, server.Get<MessageHub>().SubscribedKeyCount);
    }

    [Theory]
    [InlineData("/sse?channel=/a&pad=300", ":")]
    [InlineData("/stream?channel=/a&pad=300", " ")]
    public async Task Padding_IsWrittenFirst_AndAfterEveryWrite(string pathAndQuery, string fill)
    {
        await using var server = await TestServer.StartAsync();
        await using var stream = await LineStream.OpenAsync(Url(server, pathAndQuery));
        var first = await stream.NextAsync(_ => true);
        Assert.Equal(299, first!.Value.Line.Length); // 300 bytes with the line feed
        Assert.StartsWith(fill, first.Value.Line);
        await WaitSubscribedAsync(server);
        await server.PublishAsync("/a", 1);
        Assert.NotNull(await stream.NextAsync(l => l.Contains("\"data\":1", StringComparison.Ordinal)));
        var after = await stream.NextAsync(l => l.Length > 0);
        Assert.Equal(299, after!.Value.Line.Length);
    }

    [Fact]
    public async Task Padding_DefaultsToTheConfiguredValue()
    {
        await using var server = await TestServer.StartAsync("Halley:Streaming:Padding=64");
        await using var stream = await LineStream.OpenAsync(Url(server, "/sse?channel=/a"));
        Assert.Equal(63, (await stream.NextAsync(_ => true))!.Value.Line.Length);
    }

    [Theory]
    [InlineData("/sse?channel=/a", ":")]
    [InlineData("/stream?channel=/a", "")]
    public async Task QuietStreams_GetHeartbeats_AtTheConfiguredInterval(string pathAndQuery, string heartbeat)
    {
        await using var server = await TestServer.StartAsync("Halley:HeartbeatInterval=00:00:00.200", "Halley:SweepPeriod=00:00:00.020");
        await using var stream = await LineStream.OpenAsync(Url(server, pathAndQuery));
        var first = await stream.NextAsync(l => l == heartbeat, TimeSpan.FromSeconds(5));
        var second = await stream.NextAsync(l => l == heartbeat, TimeSpan.FromSeconds(5));
        Assert.NotNull(first);
        Assert.NotNull(second);
        var gap = second!.Value.At - first!.Value.At;
        Assert.InRange(gap, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Sse_AtTheEndOfItsLifetime_EndsWithARetryHint()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxConnectionLifetime=00:00:00.300", "Halley:SweepPeriod=00:00:00.020", "Halley:Streaming:RetryDelay=00:00:02");
        await using var sse = await LineStream.OpenAsync(Url(server, "/sse?channel=/a"));
        var retry = await sse.NextAsync(l => l.StartsWith("retry:", StringComparison.Ordinal));
        Assert.Equal("retry: 2000", retry!.Value.Line);
        Assert.InRange(retry.Value.At, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3));
        Assert.Null(await sse.NextAsync(_ => false)); // then the response ends
        await Timeouts.Until(() => server.Get<MessageHub>().SubscribedKeyCount == 0, "the stream unsubscribed");
    }

    [Fact]
    public async Task Stream_AtTheEndOfItsLifetime_Ends()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxConnectionLifetime=00:00:00.300", "Halley:SweepPeriod=00:00:00.020");
        await using var stream = await LineStream.OpenAsync(Url(server, "/stream?channel=/a"));
        Assert.Null(await stream.NextAsync(_ => false));
        Assert.True(stream.Ended);
    }

    [Fact]
    public async Task ClientLeaving_Unsubscribes()
    {
        await using var server = await TestServer.StartAsync();
        var sse = await LineStream.OpenAsync(Url(server, "/sse?channel=/a&channel=/b/**"));
        await WaitSubscribedAsync(server, 2);
        await sse.DisposeAsync();
        await Timeouts.Until(() => server.Get<MessageHub>().SubscribedKeyCount == 0, "the stream unsubscribed");
    }

    [Fact]
    public async Task AClientThatStopsReading_IsCutOff_AtTheQueueLimit()
    {
        await using var server = await TestServer.StartAsync("Halley:MaxQueue=20");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).Within();
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /sse?channel=/flood HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n\r\n")).Within();
        await WaitSubscribedAsync(server);

        // Never read: the socket buffers, then Kestrel's, then the connection's queue fill up.
        for (var i = 0; i < 2000 && server.Get<MessageHub>().SubscribedKeyCount > 0; i++)
        {
            await server.PublishAsync("/flood", new JsonObject { ["blob"] = new string('x', 16 * 1024) });
        }
        await Timeouts.Until(() => server.Get<MessageHub>().SubscribedKeyCount == 0, "the slow consumer was cut off");
    }
}
