using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Sessions;

namespace Halley.FunctionalTests;

public sealed class BadInputTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("Halley:MaxMessageSize=2048", "Halley:MaxSubscriptionsPerSession=3");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("[{\"channel\":")]
    [InlineData("{\"channel\":\"/meta/handshake\"} trailing")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("")]
    [InlineData("message=%5B%7B")]
    public async Task NotBayeux_Is400_AndCreatesNoSession(string body)
    {
        using var client = new BayeuxHttp(_server);
        var before = _server.Get<SessionRegistry>().Count;
        using var response = await client.PostRawAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, _server.Get<SessionRegistry>().Count);
        await client.HandshakeAsync();
    }

    [Fact]
    public async Task OversizeBody_Is413()
    {
        using var client = new BayeuxHttp(_server);
        using var response = await client.PostRawAsync("[" + string.Join(",", Enumerable.Repeat("{}", 2000)) + "]");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task EmptyArray_IsAnsweredWithAnEmptyArray()
    {
        using var client = new BayeuxHttp(_server);
        Assert.Empty(await client.SendAsync());
    }

    [Fact]
    public async Task WrongFieldTypes_GetBayeuxErrors_PerMessage()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var replies = await client.SendAsync(
            new JsonObject { ["channel"] = 5, ["id"] = "a" },
            new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = client.ClientId, ["subscription"] = 7, ["id"] = "b" },
            new JsonObject { ["channel"] = "/x", ["clientId"] = client.ClientId, ["data"] = 1, ["ext"] = "nope", ["id"] = "c" },
            new JsonObject { ["channel"] = "/x", ["clientId"] = client.ClientId, ["data"] = 1, ["id"] = new JsonObject() });

        Assert.Equal(4, replies.Count);
        Assert.Equal("400::invalid_field_channel", replies[0]!["error"]!.GetValue<string>());
        Assert.Equal("400::invalid_field_subscription", replies[1]!["error"]!.GetValue<string>());
        Assert.Equal("400::invalid_field_ext", replies[2]!["error"]!.GetValue<string>());
        Assert.Equal("400::invalid_field_id", replies[3]!["error"]!.GetValue<string>());
        Assert.All(replies, r => Assert.False(r!["successful"]!.GetValue<bool>()));
    }

    [Theory]
    [InlineData("/bad channel", "400:/bad channel:invalid_channel")]
    [InlineData("/a//b", "400:/a//b:invalid_channel")]
    [InlineData("/a/*/b", "400:/a/*/b:invalid_channel")]
    [InlineData("/meta/x", "403:/meta/x:meta_channels_are_not_subscribable")]
    [InlineData("/service/x", "403:/service/x:service_channels_are_not_broadcast")]
    public async Task InvalidSubscriptions_AreRefused(string channel, string error)
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = (await client.SendAsync(client.Subscribe(channel)))[0]!;
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal(error, reply["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/a/*", "403:/a/*:publish_to_wildcard")]
    [InlineData("/a/**", "403:/a/**:publish_to_wildcard")]
    [InlineData("/meta/nonsense", "400:/meta/nonsense:unknown_meta_channel")]
    [InlineData("relative", "400:relative:invalid_channel")]
    public async Task InvalidPublishes_AreRefused(string channel, string error)
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var reply = (await client.SendAsync(client.Publish(channel, 1)))[0]!;
        Assert.Equal(error, reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task TooManySubscriptions_AreRefused()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/s/1", "/s/2", "/s/3");
        var reply = (await client.SendAsync(client.Subscribe("/s/4")))[0]!;
        Assert.Equal("403:3:too_many_subscriptions", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task HandshakeBatchedWithOtherMessages_IsRefused_AndCreatesNoSession()
    {
        using var client = new BayeuxHttp(_server);
        var before = _server.Get<SessionRegistry>().Count;
        var replies = await client.SendAsync(
            new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["supportedConnectionTypes"] = new JsonArray("long-polling"), ["id"] = "1" },
            new JsonObject { ["channel"] = "/meta/connect", ["id"] = "2" });
        // One refusal per message, in the batch's order, each naming its message: an empty or short reply fails here.
        Assert.Collection(replies,
            r => AssertRefused(r, "/meta/handshake", "1"),
            r => AssertRefused(r, "/meta/connect", "2"));
        Assert.Equal(before, _server.Get<SessionRegistry>().Count);
    }

    private static void AssertRefused(JsonNode? reply, string channel, string id)
    {
        Assert.NotNull(reply);
        Assert.Equal(channel, reply["channel"]!.GetValue<string>());
        Assert.Equal(id, reply["id"]!.GetValue<string>());
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal("400::handshake_must_be_sent_alone", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task DuplicateKey_OverWebSocket_IsRefused_PublishesNothing_AndTheSocketKeepsWorking()
    {
        await using var socket = await BayeuxSocket.ConnectAsync(_server);
        await socket.HandshakeAsync();
        var subscribed = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = socket.ClientId, ["subscription"] = "/dup/a" });
        Assert.True(subscribed["successful"]!.GetValue<bool>());
        var sessions = _server.Get<SessionRegistry>().Count;

        // Read as the last value, this publish would be a second handshake.
        await socket.SendRawAsync($$"""[{"channel":"/dup/a","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"clientId":"{{socket.ClientId}}","data":1,"id":"dup"}]""");
        var refused = await socket.ReplyAsync("dup");
        Assert.False(refused["successful"]!.GetValue<bool>());
        Assert.Equal("400::duplicate_field_channel", refused["error"]!.GetValue<string>());
        Assert.Equal(sessions, _server.Get<SessionRegistry>().Count);

        await socket.SendRawAsync($$"""[{"channel":"/dup/a","clientId":"{{socket.ClientId}}","data":2,"id":"ok"}]""");
        Assert.True((await socket.ReplyAsync("ok"))["successful"]!.GetValue<bool>());
        // The first event the subscriber gets is the valid one: the refused message published nothing.
        var delivered = await socket.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/dup/a" && m["data"] is not null);
        Assert.Equal(2, delivered["data"]!.GetValue<int>());
    }

    [Fact]
    public async Task DuplicateKey_OverLongPolling_IsRefused_AndTheSessionKeepsWorking()
    {
        using var client = new BayeuxHttp(_server);
        await client.HandshakeAsync();
        var sessions = _server.Get<SessionRegistry>().Count;

        using var response = await client.PostRawAsync($$"""[{"channel":"/dup/b","clientId":"{{client.ClientId}}","clientId":"other","data":1,"id":"7"}]""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray()[0]!;
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal("400::duplicate_field_clientId", reply["error"]!.GetValue<string>());
        Assert.Equal(sessions, _server.Get<SessionRegistry>().Count);

        var published = (await client.SendAsync(client.Publish("/dup/b", 2)))[0]!;
        Assert.True(published["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task HandshakeWithoutVersion_IsRefused_AndCreatesNoSession()
    {
        using var client = new BayeuxHttp(_server);
        var before = _server.Get<SessionRegistry>().Count;
        var reply = (await client.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["supportedConnectionTypes"] = new JsonArray("long-polling"), ["id"] = "1" }))[0]!;
        Assert.False(reply["successful"]!.GetValue<bool>());
        Assert.Equal("400::version_missing", reply["error"]!.GetValue<string>());
        Assert.Null(reply["clientId"]);
        Assert.Equal(before, _server.Get<SessionRegistry>().Count);
    }

    [Fact]
    public async Task PublishApi_DuplicateKey_Is400_AndPublishesNothing()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        using var response = await http.PostAsync("/api/publish",
            new StringContent("""{"channel":"/dup/c","channel":"/dup/d","data":1}""", System.Text.Encoding.UTF8, "application/json")).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("'channel' is given twice.", await response.Content.ReadAsStringAsync());
        // Duplicates inside data are the application's business, passed on as they came.
        using var inData = await http.PostAsync("/api/publish",
            new StringContent("""{"channel":"/dup/c","data":{"x":1,"x":2}}""", System.Text.Encoding.UTF8, "application/json")).Within();
        Assert.Equal(HttpStatusCode.OK, inData.StatusCode);
    }

    [Fact]
    public async Task UnsupportedConnectionType_IsRefused()
    {
        using var client = new BayeuxHttp(_server);
        var reply = (await client.SendAsync(new JsonObject { ["channel"] = "/meta/handshake", ["version"] = "1.0", ["supportedConnectionTypes"] = new JsonArray("flash"), ["id"] = "1" }))[0]!;
        Assert.Equal("301:flash:connection_type_mismatch", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnsupportedMethod_Is405()
    {
        using var client = new BayeuxHttp(_server);
        using var response = await client.Http.DeleteAsync("/cometd").Within();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
