using System.Collections.Concurrent;
using System.Net;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests.Http2;

/// <summary>
/// HTTP/2 without TLS (h2c, prior knowledge) on a listener configured with <c>Protocols=Http2</c>, as
/// docs/deployment.md shows: a client's streams share one connection instead of one connection each.
/// </summary>
public sealed class Http2Tests
{
    private const int Streams = 3;

    [Theory]
    [InlineData("/sse")]
    [InlineData("/stream")]
    public async Task Streams_ShareOneH2cConnection_AndReceiveEvents(string endpoint)
    {
        // What the server saw is the proof, not what the client was told: every request names the connection
        // Kestrel served it on (its id, and the client's port, which differs for each TCP connection).
        var seen = new RequestRecorder();
        await using var server = await TestServer.StartAsync(
            builder => builder.Services.AddSingleton<IStartupFilter>(seen),
            "Kestrel:Endpoints:Http1:Url=http://127.0.0.1:0",
            "Kestrel:Endpoints:H2c:Url=http://127.0.0.1:0",
            "Kestrel:Endpoints:H2c:Protocols=Http2");
        var addresses = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        Assert.Equal(2, addresses.Count);

        // Allowed to open more connections: it does so only when the server will not take another stream on the
        // one it has, so a single connection below is the server multiplexing, not the client being told to.
        using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        using var h2 = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        // One listener speaks only HTTP/1.1, the other only h2c: find the h2c one by asking.
        Uri? h2cBase = null;
        foreach (var address in addresses)
        {
            try
            {
                using var probe = await h2.GetAsync(new Uri(new Uri(address), "/healthz")).Within();
                if (probe.Version == HttpVersion.Version20)
                {
                    h2cBase = new Uri(address);
                }
            }
            catch (HttpRequestException)
            {
                // The HTTP/1.1 listener refuses a prior-knowledge HTTP/2 preface.
            }
        }
        Assert.NotNull(h2cBase);

        var streams = new List<(HttpResponseMessage Response, StreamReader Lines)>();
        try
        {
            for (var i = 0; i < Streams; i++)
            {
                var response = await h2.GetAsync(new Uri(h2cBase, $"{endpoint}?channel=/h2/news"), HttpCompletionOption.ResponseHeadersRead).Within();
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(HttpVersion.Version20, response.Version);
                streams.Add((response, new StreamReader(await response.Content.ReadAsStreamAsync())));
            }

            var opened = seen.Requests.Where(r => r.Path == endpoint).ToList();
            Assert.Equal(Streams, opened.Count);
            Assert.All(opened, r => Assert.Equal("HTTP/2", r.Protocol));
            Assert.Single(opened.Select(r => r.ConnectionId).Distinct());
            Assert.Single(opened.Select(r => r.RemotePort).Distinct());

            using var publish = await h2.PostAsync(new Uri(h2cBase, "/api/publish"),
                new StringContent("""{"channel":"/h2/news","data":"multiplexed"}""", System.Text.Encoding.UTF8, "application/json")).Within();
            Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
            foreach (var (_, lines) in streams)
            {
                Assert.Equal("""{"channel":"/h2/news","data":"multiplexed"}""", await NextEventAsync(endpoint, lines).Within());
            }
        }
        finally
        {
            foreach (var (response, lines) in streams)
            {
                lines.Dispose();
                response.Dispose();
            }
        }
    }

    // An SSE event's payload is its data: line (comments, retry: and id: lines are skipped); a /stream event is a line.
    private static async Task<string?> NextEventAsync(string endpoint, StreamReader lines)
    {
        while (await lines.ReadLineAsync() is { } line)
        {
            if (endpoint == "/sse" && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
            if (endpoint == "/stream" && line.Trim().Length > 0)
            {
                return line;
            }
        }
        return null;
    }

    /// <summary>Notes each request's path, protocol and connection as the server saw them, ahead of Halley's own middleware.</summary>
    private sealed class RequestRecorder : IStartupFilter
    {
        public ConcurrentQueue<(string Path, string Protocol, string ConnectionId, int RemotePort)> Requests { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                Requests.Enqueue((context.Request.Path.Value ?? "", context.Request.Protocol, context.Connection.Id, context.Connection.RemotePort));
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
