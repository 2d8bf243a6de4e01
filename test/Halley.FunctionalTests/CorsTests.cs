using System.Net;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

public sealed class CorsTests
{
    [Fact]
    public async Task AllowedOrigin_GetsPreflightAndCredentialedResponses()
    {
        await using var server = await TestServer.StartAsync("Halley:Cors:AllowedOrigins:0=http://app.example");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cometd/handshake");
        preflight.Headers.Add("Origin", "http://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var response = await http.SendAsync(preflight).Within();
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("http://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());

        using var post = new HttpRequestMessage(HttpMethod.Post, "/cometd") { Content = new StringContent("[]") };
        post.Headers.Add("Origin", "http://app.example");
        using var postResponse = await http.SendAsync(post).Within();
        Assert.Equal("http://app.example", postResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task OtherOrigin_GetsNoCorsHeaders()
    {
        await using var server = await TestServer.StartAsync("Halley:Cors:AllowedOrigins:0=http://app.example");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cometd");
        preflight.Headers.Add("Origin", "http://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var response = await http.SendAsync(preflight).Within();
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task NoConfiguredOrigins_MeansNoCorsHeaders()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var post = new HttpRequestMessage(HttpMethod.Post, "/cometd") { Content = new StringContent("[]") };
        post.Headers.Add("Origin", "http://app.example");
        using var response = await http.SendAsync(post).Within();
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task StreamingEndpoints_AnswerAllowedOriginsLikeTheBayeuxEndpoint()
    {
        await using var server = await TestServer.StartAsync("Halley:Cors:AllowedOrigins:0=http://app.example");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        foreach (var path in new[] { "/sse?channel=/cors", "/stream?channel=/cors" })
        {
            using var allowed = new HttpRequestMessage(HttpMethod.Head, path);
            allowed.Headers.Add("Origin", "http://app.example");
            using var response = await http.SendAsync(allowed).Within();
            Assert.Equal("http://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());

            using var other = new HttpRequestMessage(HttpMethod.Head, path);
            other.Headers.Add("Origin", "http://evil.example");
            using var refused = await http.SendAsync(other).Within();
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }
}
