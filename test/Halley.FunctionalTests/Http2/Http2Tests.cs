using System.Net;
using Halley.FunctionalTests.Infrastructure;
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
    [Fact]
    public async Task SseStreams_ShareOneH2cConnection_AndReceiveEvents()
    {
        await using var server = await TestServer.StartAsync(
            "Kestrel:Endpoints:Http1:Url=http://127.0.0.1:0",
            "Kestrel:Endpoints:H2c:Url=http://127.0.0.1:0",
            "Kestrel:Endpoints:H2c:Protocols=Http2");
        var addresses = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        Assert.Equal(2, addresses.Count);

        using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false };
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

        var streams = new List<(HttpResponseMessage Response, LineReader Lines)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var response = await h2.GetAsync(new Uri(h2cBase, "/stream?channel=/h2/news"), HttpCompletionOption.ResponseHeadersRead).Within();
                Assert.Equal(HttpVersion.Version20, response.Version);
                streams.Add((response, new LineReader(await response.Content.ReadAsStreamAsync())));
            }
            using var publish = await h2.PostAsync(new Uri(h2cBase, "/api/publish"),
                new StringContent("""{"channel":"/h2/news","data":"multiplexed"}""", System.Text.Encoding.UTF8, "application/json")).Within();
            Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
            foreach (var (_, lines) in streams)
            {
                string? line;
                do
                {
                    line = await lines.ReadLineAsync().Within();
                }
                while (string.IsNullOrEmpty(line?.Trim()));
                Assert.Contains("\"multiplexed\"", line);
            }
        }
        finally
        {
            foreach (var (response, _) in streams)
            {
                response.Dispose();
            }
        }
    }

    private sealed class LineReader(Stream stream)
    {
        private readonly StreamReader _reader = new(stream);

        public Task<string?> ReadLineAsync() => _reader.ReadLineAsync();
    }
}
