using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests;

/// <summary>
/// Halley:Cors:AllowedOrigins applies to every accept path: a browser page of another origin cannot open a WebSocket
/// (cross-site WebSocket hijacking), a long-poll or a stream; the server's own origin, a listed one and a client that
/// sends no Origin can.
/// </summary>
public sealed class OriginTests
{
    private const string Evil = "http://evil.example";
    private const string Listed = "http://app.example";

    private static string OwnOrigin(TestServer server) => server.BaseAddress.GetLeftPart(UriPartial.Authority);

    /// <summary>Counts halley.connections.refused of <paramref name="server"/> only, as (transport, reason).</summary>
    private static MeterListener CountRefusals(TestServer server, ConcurrentQueue<(string Transport, string Reason)> refusals) =>
        CounterTags.Record(server, "halley.connections.refused", "transport", "reason", refusals);

    private static ClientWebSocket NewSocket(string? origin)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        socket.Options.CollectHttpResponseDetails = true;
        return socket;
    }

    private static async Task<JsonObject> HandshakeOverAsync(ClientWebSocket socket)
    {
        var handshake = """[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"id":"1"}]""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(handshake), WebSocketMessageType.Text, true, CancellationToken.None).Within();
        var buffer = new byte[16 * 1024];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None).Within();
        return JsonNode.Parse(buffer.AsSpan(0, received.Count))!.AsArray()[0]!.AsObject();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CrossOriginWebSocket_IsRefusedWith403_BeforeAnySession_OnBothAcceptPaths(bool atConnectionLevel)
    {
        await using var server = await TestServer.StartAsync($"Halley:WebSockets:AcceptAtConnectionLevel={atConnectionLevel}");
        var refusals = new ConcurrentQueue<(string Transport, string Reason)>();
        using var listener = CountRefusals(server, refusals);

        using var evil = NewSocket(Evil);
        await Assert.ThrowsAsync<WebSocketException>(() => evil.ConnectAsync(server.WebSocketUri, CancellationToken.None).Within());

        Assert.Equal(HttpStatusCode.Forbidden, evil.HttpStatusCode);
        Assert.Equal(0, server.Get<SessionRegistry>().Count);
        Assert.Equal([("websocket", "origin")], refusals);
    }

    [Theory]
    [InlineData(true, "own")]
    [InlineData(false, "own")]
    [InlineData(true, null)]
    [InlineData(false, null)]
    [InlineData(true, Listed)]
    [InlineData(false, Listed)]
    public async Task SameOrigin_NoOrigin_AndListedOrigin_WebSockets_Handshake_OnBothAcceptPaths(bool atConnectionLevel, string? origin)
    {
        await using var server = await TestServer.StartAsync($"Halley:WebSockets:AcceptAtConnectionLevel={atConnectionLevel}", $"Halley:Cors:AllowedOrigins:0={Listed}");

        using var socket = NewSocket(origin == "own" ? OwnOrigin(server) : origin);
        await socket.ConnectAsync(server.WebSocketUri, CancellationToken.None).Within();
        var reply = await HandshakeOverAsync(socket);

        Assert.True(reply["successful"]!.GetValue<bool>());
        Assert.Equal(1, server.Get<SessionRegistry>().Count);
    }

    [Fact]
    public async Task ConnectionLevelRefusal_IsARawHttp403_WithItsReason()
    {
        await using var server = await TestServer.StartAsync("Halley:WebSockets:AcceptAtConnectionLevel=true");
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).Within();
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /cometd HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nOrigin: {Evil}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync().Within();

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("Halley:Cors:AllowedOrigins.", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrossOriginLongPollingHandshake_IsRefusedWith403_AndNoSession()
    {
        await using var server = await TestServer.StartAsync();
        var refusals = new ConcurrentQueue<(string Transport, string Reason)>();
        using var listener = CountRefusals(server, refusals);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/cometd")
        {
            Content = new StringContent("""[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", Evil);
        using var response = await http.SendAsync(request).Within();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Halley:Cors:AllowedOrigins", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, server.Get<SessionRegistry>().Count);
        Assert.Equal([("cross-origin-long-polling", "origin")], refusals);
    }

    [Fact]
    public async Task SameOriginLongPollingHandshake_Succeeds()
    {
        await using var server = await TestServer.StartAsync();
        using var client = new BayeuxHttp(server);
        client.Http.DefaultRequestHeaders.Add("Origin", OwnOrigin(server));

        var reply = await client.HandshakeAsync();

        Assert.True(reply["successful"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("/sse?channel=/a", null)]
    [InlineData("/stream?channel=/a", null)]
    [InlineData("/cometd?jsonp=cb&message=%5B%5D", null)]
    [InlineData("/cometd/someclient", "text/event-stream")]
    public async Task CrossOriginStreamsAndGets_AreRefusedWith403_OwnOriginIsNot(string pathAndQuery, string? accept)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        async Task<HttpResponseMessage> GetAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
            request.Headers.Add("Origin", origin);
            if (accept is not null)
            {
                request.Headers.Add("Accept", accept);
            }
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).Within();
        }

        using var refused = await GetAsync(Evil);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var own = await GetAsync(OwnOrigin(server));
        Assert.NotEqual(HttpStatusCode.Forbidden, own.StatusCode);
    }

    [Fact]
    public async Task Star_AllowsAnyOrigin()
    {
        await using var server = await TestServer.StartAsync("Halley:Cors:AllowedOrigins:0=*");
        using var socket = NewSocket(Evil);
        await socket.ConnectAsync(server.WebSocketUri, CancellationToken.None).Within();
        Assert.True((await HandshakeOverAsync(socket))["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AnInvalidListEntry_StopsTheStart_NamingTheKey()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("Halley:Cors:AllowedOrigins:0=app.example"));
        Assert.Contains("Halley:Cors:AllowedOrigins", failure.Message, StringComparison.Ordinal);
    }
}
