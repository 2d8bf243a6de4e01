using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

public sealed class ApiTests
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Publish_WithoutKey_FromLoopback_DeliversAndEchoesTheChannel()
    {
        await using var server = await TestServer.StartAsync();
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/api/**");

        using var response = await client.Http.PostAsync("/api/publish", Json("""{"channel":"/api/x","data":{"v":[1,2]}}""")).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/api/x", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["channel"]!.GetValue<string>());

        var events = await client.SendAsync(client.Connect(timeoutMs: 0));
        Assert.Equal("""{"v":[1,2]}""", events[1]!["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Publish_RetriedWithItsIdempotencyKey_AnswersTheFirstPosition_AndIsDeliveredOnce()
    {
        await using var server = await TestServer.StartAsync(["Halley:History:Channels:/api/**:Size=10"]);
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/api/**");

        var first = await PublishWithKeyAsync(client.Http, """{"channel":"/api/x","data":1}""", "order-17");
        var retry = await PublishWithKeyAsync(client.Http, """{"channel":"/api/x","data":1}""", "order-17");
        var next = await PublishWithKeyAsync(client.Http, """{"channel":"/api/x","data":2}""", "order-18");

        Assert.Null(first["duplicate"]);
        Assert.True(retry["duplicate"]!.GetValue<bool>());
        Assert.Equal(first["position"]!.GetValue<string>(), retry["position"]!.GetValue<string>());
        var events = await client.SendAsync(client.Connect(timeoutMs: 0));
        Assert.Equal([1, 2], events.Skip(1).Select(e => e!["data"]!.GetValue<int>()));
        Assert.Equal(next["position"]!.GetValue<string>(), events[^1]!["ext"]!["halley"]!["position"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData(TooLongKey)]
    public async Task Publish_WithAnInvalidIdempotencyKey_Is400(string key)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = Json("""{"channel":"/a","data":1}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Idempotency-Key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // One more character than an Idempotency-Key may have.
    private const string TooLongKey = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

    private static async Task<JsonNode> PublishWithKeyAsync(HttpClient http, string body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Publish_WithoutKey_ThroughAProxy_IsForbidden()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = Json("""{"channel":"/a","data":1}""") };
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Publish_WithKey_RequiresTheBearerKey()
    {
        await using var server = await TestServer.StartAsync("Halley:Api:Key=s3cret");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var missing = await http.PostAsync("/api/publish", Json("""{"channel":"/a","data":1}""")).Within();
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = Json("""{"channel":"/a","data":1}""") };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cre");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong).Within()).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = Json("""{"channel":"/a","data":1}""") };
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right).Within()).StatusCode);
    }

    [Theory]
    [InlineData("""{"channel":"/a/*","data":1}""")]
    [InlineData("""{"channel":"/meta/connect","data":1}""")]
    [InlineData("""{"channel":"/service/echo","data":1}""")]
    [InlineData("""{"channel":"no-slash","data":1}""")]
    [InlineData("""{"channel":"/a"}""")]
    [InlineData("""{"channel":5,"data":1}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"channel":""")]
    public async Task Publish_BadInput_Is400(string body)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("/api/publish", Json(body)).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Healthz_Is200()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/healthz").Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
