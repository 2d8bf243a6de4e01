using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

public sealed partial class CallbackPollingTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Halley:SweepPeriod=00:00:00.050", "Halley:History:Channels:/kept/**:Size=10");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [GeneratedRegex(@"^/\*\*/(?<cb>[A-Za-z0-9_.$]+)\((?<json>.*)\);$", RegexOptions.Singleline)]
    private static partial Regex Script();

    private static async Task<(string Callback, JsonArray Batch, HttpResponseMessage Response)> GetAsync(BayeuxHttp client, string callback, JsonArray messages)
    {
        var url = $"/cometd?jsonp={Uri.EscapeDataString(callback)}&message={Uri.EscapeDataString(messages.ToJsonString())}";
        var response = await client.Http.GetAsync(url).Within();
        var body = await response.Content.ReadAsStringAsync();
        var match = Script().Match(body);
        Assert.True(match.Success, body);
        return (match.Groups["cb"].Value, JsonNode.Parse(match.Groups["json"].Value)!.AsArray(), response);
    }

    [Fact]
    public async Task HandshakeSubscribeConnect_OverJsonp()
    {
        using var client = new BayeuxHttp(_server);
        var (callback, handshake, response) = await GetAsync(client, "jsonp.cb_1$", [new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["supportedConnectionTypes"] = new JsonArray("callback-polling"), ["id"] = "1" }]);
        Assert.Equal("jsonp.cb_1$", callback);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var clientId = handshake[0]!["clientId"]!.GetValue<string>();

        var (_, subscribed, _) = await GetAsync(client, "cb", [new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = clientId, ["subscription"] = "/jsonp", ["id"] = "2" }]);
        Assert.True(subscribed[0]!["successful"]!.GetValue<bool>());
        await _server.PublishAsync("/jsonp", "</script><script>alert(1)</script>");
        var (_, connect, _) = await GetAsync(client, "cb", [new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = clientId, ["connectionType"] = "callback-polling", ["id"] = "3" }]);
        Assert.Equal("</script><script>alert(1)</script>", connect[1]!["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task ANewSession_RecoversWhatItMissed_FromItsLastPosition()
    {
        var last = await _server.PublishAsync("/kept/jsonp", 0);
        await _server.PublishAsync("/kept/jsonp", 1);
        await _server.PublishAsync("/kept/jsonp", 2);
        using var client = new BayeuxHttp(_server);
        var (_, handshake, _) = await GetAsync(client, "cb", [new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["supportedConnectionTypes"] = new JsonArray("callback-polling"), ["id"] = "1" }]);
        var clientId = handshake[0]!["clientId"]!.GetValue<string>();
        var subscribe = new JsonObject
        {
            ["channel"] = "/meta/subscribe",
            ["clientId"] = clientId,
            ["subscription"] = "/kept/jsonp",
            ["id"] = "2",
            ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = last } },
        };
        var (_, subscribed, _) = await GetAsync(client, "cb", [subscribe]);
        Assert.True(subscribed[0]!["ext"]!["halley"]!["recovered"]!.GetValue<bool>());
        var (_, connect, _) = await GetAsync(client, "cb", [new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = clientId, ["connectionType"] = "callback-polling", ["advice"] = new JsonObject { ["timeout"] = 0 }, ["id"] = "3" }]);
        Assert.Equal([1, 2], connect.OfType<JsonObject>().Where(m => m["channel"]?.GetValue<string>() == "/kept/jsonp").Select(m => m["data"]!.GetValue<int>()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("alert(document.cookie)//")]
    [InlineData("a<b")]
    [InlineData("x x")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("cb\n")]
    public async Task HostileCallbackName_Is400(string callback)
    {
        using var client = new BayeuxHttp(_server);
        using var response = await client.Http.GetAsync($"/cometd?jsonp={Uri.EscapeDataString(callback)}&message=%5B%5D").Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(callback.Length > 0 ? callback : "\u0000", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MissingMessage_Is400()
    {
        using var client = new BayeuxHttp(_server);
        using var response = await client.Http.GetAsync("/cometd?jsonp=cb").Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
