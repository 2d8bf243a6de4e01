using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

/// <summary>
/// <c>/api/presence</c> and <c>/api/channels</c> on one node: the sessions subscribed to a channel's exact name, as
/// they come and go (unsubscribe, disconnect); wildcard subscribers are not members; bad parameters are 400.
/// </summary>
public sealed class PresenceApiTests
{
    [Fact]
    public async Task Presence_ListsTheSessionsSubscribedToAChannel_AsTheyComeAndGo()
    {
        await using var server = await TestServer.StartAsync();
        using var alice = new BayeuxHttp(server);
        using var bob = new BayeuxHttp(server);
        using var watcher = new BayeuxHttp(server);
        await alice.HandshakeAsync();
        await bob.HandshakeAsync();
        await watcher.HandshakeAsync();
        await alice.SubscribeAsync("/chat/room", "/chat/other");
        await bob.SubscribeAsync("/chat/room");
        await watcher.SubscribeAsync("/chat/**");

        var room = await GetJsonAsync(server, "/api/presence?channel=/chat/room");
        Assert.Equal(2, room["count"]!.GetValue<long>());
        Assert.Equal(new[] { alice.ClientId, bob.ClientId }.Order(StringComparer.Ordinal), room["members"]!.AsArray().Select(m => m!["clientId"]!.GetValue<string>()));
        var channels = await GetJsonAsync(server, "/api/channels?pattern=/chat/*");
        Assert.Equal(["/chat/other:1", "/chat/room:2"], channels["channels"]!.AsArray().Select(c => $"{c!["channel"]}:{c["members"]}"));

        await alice.SendAsync(alice.Unsubscribe("/chat/room"));
        await bob.SendAsync(bob.Disconnect());
        Assert.Equal(0, (await GetJsonAsync(server, "/api/presence?channel=/chat/room"))["count"]!.GetValue<long>());
        Assert.Equal(["/chat/other"], (await GetJsonAsync(server, "/api/channels"))["channels"]!.AsArray().Select(c => c!["channel"]!.GetValue<string>()));
        var limited = await GetJsonAsync(server, "/api/presence?channel=/chat/other&limit=1");
        Assert.Single(limited["members"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/presence")]
    [InlineData("/api/presence?channel=/chat/*")]
    [InlineData("/api/presence?channel=/meta/connect")]
    [InlineData("/api/presence?channel=/a&limit=0")]
    [InlineData("/api/channels?pattern=not-a-channel")]
    [InlineData("/api/channels?limit=x")]
    public async Task BadParameters_Are400(string path)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    internal static async Task<JsonNode> GetJsonAsync(TestServer server, string path)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
