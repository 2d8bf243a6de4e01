using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Halley.FunctionalTests.Infrastructure;
using Halley.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests;

/// <summary>
/// Every accept path asks the same connection authorization (IConnectionAuthorizer) before it serves anything: a
/// refusal gets the authorizer's status and reason on every transport, and what it is asked names the transport.
/// </summary>
public sealed class ConnectionAuthorizationTests
{
    private const string Refused = "http://refused.example";
    private const string Allowed = "http://allowed.example";

    /// <summary>Refuses requests from <see cref="Refused"/>, allows the rest, and remembers what it was asked.</summary>
    private sealed class OriginAuthorizer : IConnectionAuthorizer
    {
        public ConcurrentQueue<(string Transport, string Path, string? Origin, bool HasHttpContext, string? Cookie)> Asked { get; } = new();

        public ValueTask<ConnectionDecision> AuthorizeAsync(ConnectionRequest request, CancellationToken cancellationToken)
        {
            Asked.Enqueue((request.Transport, request.Path, request.Origin, request.HttpContext is not null, request.GetCookie("test")));
            return ValueTask.FromResult(request.Origin == Refused ? ConnectionDecision.Deny("origin refused by the test authorizer") : ConnectionDecision.Allow);
        }
    }

    // Every origin passes the origin policy (Halley:Cors:AllowedOrigins), so that the authorizer decides alone here;
    // the policy itself is tested in OriginTests.
    private const string AnyOrigin = "Halley:Cors:AllowedOrigins:0=*";

    private static async Task<(TestServer Server, OriginAuthorizer Authorizer)> StartAsync(params string[] settings)
    {
        var authorizer = new OriginAuthorizer();
        var server = await TestServer.StartAsync(b => b.Services.AddSingleton<IConnectionAuthorizer>(authorizer), [AnyOrigin, .. settings]);
        return (server, authorizer);
    }

    public static TheoryData<string, string, string, string?> HttpRequests => new()
    {
        // method, path and query, the transport the authorizer is asked about, Accept
        { "POST", "/cometd", "cross-origin-long-polling", null },
        { "GET", "/cometd?jsonp=cb&message=%5B%5D", "callback-polling", null },
        { "GET", "/cometd/someclient", "eventsource", "text/event-stream" },
        { "GET", "/sse?channel=/a", "sse", null },
        { "GET", "/stream?channel=/a", "stream", null },
    };

    [Theory]
    [MemberData(nameof(HttpRequests))]
    public async Task HttpTransports_AreRefusedWithTheAuthorizersReason(string method, string pathAndQuery, string transport, string? accept)
    {
        var (server, authorizer) = await StartAsync();
        await using var _ = server;
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var refused = await SendAsync(http, method, pathAndQuery, Refused, accept);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("origin refused by the test authorizer", await refused.Content.ReadAsStringAsync());

        // The same request from another origin gets past the authorizer (whatever the transport then answers).
        using var allowed = await SendAsync(http, method, pathAndQuery, Allowed, accept);
        Assert.NotEqual(HttpStatusCode.Forbidden, allowed.StatusCode);

        var asked = authorizer.Asked.ToArray();
        Assert.Equal(2, asked.Length);
        Assert.All(asked, a => Assert.Equal(transport, a.Transport));
        Assert.All(asked, a => Assert.True(a.HasHttpContext));
        Assert.All(asked, a => Assert.Equal("c1", a.Cookie));
        Assert.Equal([Refused, Allowed], asked.Select(a => a.Origin));
        Assert.Equal(pathAndQuery.Split('?')[0], asked[0].Path);
    }

    [Fact]
    public async Task LongPolling_WithoutOrigin_IsAskedAsLongPolling()
    {
        var (server, authorizer) = await StartAsync();
        await using var _ = server;
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("/cometd", new StringContent("[]")).Within();
        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        var asked = Assert.Single(authorizer.Asked);
        Assert.Equal(("long-polling", (string?)null), (asked.Transport, asked.Origin));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WebSocketUpgrades_AreRefusedBeforeThe101_OnBothAcceptPaths(bool atConnectionLevel)
    {
        var (server, authorizer) = await StartAsync($"Halley:WebSockets:AcceptAtConnectionLevel={atConnectionLevel}");
        await using var _ = server;

        using var refused = NewSocket(Refused);
        var failure = await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketUri, CancellationToken.None).Within());
        Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);

        using var allowed = NewSocket(Allowed);
        await allowed.ConnectAsync(server.WebSocketUri, CancellationToken.None).Within();
        Assert.Equal(WebSocketState.Open, allowed.State);

        var asked = authorizer.Asked.ToArray();
        Assert.Equal([Refused, Allowed], asked.Select(a => a.Origin));
        Assert.All(asked, a => Assert.Equal(("websocket", "/cometd", "c1"), (a.Transport, a.Path, a.Cookie)));
        // The connection-level path runs below HTTP: no HttpContext, and that is what tells the two paths apart here.
        Assert.All(asked, a => Assert.Equal(!atConnectionLevel, a.HasHttpContext));
        Assert.NotNull(failure);
    }

    [Fact]
    public async Task WithoutAuthorizers_NothingIsRefused()
    {
        await using var server = await TestServer.StartAsync(AnyOrigin);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await SendAsync(http, "GET", "/sse?channel=/a", Refused, accept: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static ClientWebSocket NewSocket(string origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.SetRequestHeader("Cookie", "test=c1");
        socket.Options.CollectHttpResponseDetails = true;
        return socket;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string pathAndQuery, string origin, string? accept)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
        if (method == "POST")
        {
            request.Content = new StringContent("[]");
        }
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Cookie", "test=c1");
        if (accept is not null)
        {
            request.Headers.Add("Accept", accept);
        }
        // Streams stay open: the status and headers are all this needs.
        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).Within();
    }
}
