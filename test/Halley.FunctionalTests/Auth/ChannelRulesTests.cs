using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Streaming;
using Halley.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests.Auth;

/// <summary>
/// The channel rules of Halley:Auth:Channels and a host's IChannelAuthorizer, on every way to read or write a
/// channel: each test shows the denial (its reason, and that it is counted) and that the other clients carried on.
/// </summary>
public sealed class ChannelRulesTests
{
    private static readonly string[] Rules =
    [
        .. AuthTokens.Hs256Settings,
        "Halley:Auth:Channels:0:Pattern=/ticker/**", "Halley:Auth:Channels:0:Publish=nobody",
        "Halley:Auth:Channels:1:Pattern=/user/{sub}/**", "Halley:Auth:Channels:1:Subscribe=authenticated", "Halley:Auth:Channels:1:Publish=authenticated",
        "Halley:Auth:Channels:2:Pattern=/admin/*", "Halley:Auth:Channels:2:Subscribe=role:admin", "Halley:Auth:Channels:2:Publish=role:admin",
        "Halley:Auth:Channels:3:Pattern=/vip/**", "Halley:Auth:Channels:3:Subscribe=claim:tier=gold",
        "Halley:Auth:Channels:4:Pattern=/private/*", "Halley:Auth:Channels:4:Subscribe=token",
        "Halley:Auth:Channels:5:Pattern=/members/**", "Halley:Auth:Channels:5:Subscribe=authenticated", "Halley:Auth:Channels:5:Publish=authenticated",
        "Halley:History:Channels:/user/**:Size=100",
    ];

    /// <summary>Refuses <c>/blocked/**</c> to everyone, as a host deciding per request would.</summary>
    private sealed class BlockingAuthorizer : IChannelAuthorizer
    {
        public ConcurrentQueue<(ChannelOperation Operation, string Channel, string? Subject, string Transport)> Asked { get; } = new();

        public ValueTask<ChannelDecision> AuthorizeAsync(ChannelAuthorizationRequest request, CancellationToken cancellationToken)
        {
            Asked.Enqueue((request.Operation, request.Channel, request.User?.FindFirst("sub")?.Value, request.Transport));
            return ValueTask.FromResult(request.Channel.StartsWith("/blocked/", StringComparison.Ordinal) ? ChannelDecision.Deny("blocked_by_host") : ChannelDecision.Allow);
        }
    }

    private static async Task<BayeuxHttp> ClientAsync(TestServer server, string? subject, IDictionary<string, object>? claims = null)
    {
        var client = new BayeuxHttp(server);
        await client.HandshakeAsync(subject is null ? null : AuthTokens.Ext(AuthTokens.Hs256(subject, claims: claims)));
        return client;
    }

    private static async Task<JsonObject> SubscribeAsync(BayeuxHttp client, string channel, JsonObject? ext = null)
    {
        var message = client.Subscribe(channel);
        if (ext is not null)
        {
            message["ext"] = ext;
        }
        return (await client.SendAsync(message))[0]!.AsObject();
    }

    private static void AssertRefused(JsonObject reply, string error)
    {
        Assert.False(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.Equal(error, reply["error"]!.GetValue<string>());
    }

    /// <summary>Publishes from the backend and waits for <paramref name="client"/>'s long-poll to bring it.</summary>
    private static async Task AssertReceivesAsync(TestServer server, BayeuxHttp client, string channel)
    {
        await server.PublishAsync(channel, "hello");
        var replies = await client.SendAsync(client.Connect(timeoutMs: 10_000));
        Assert.Contains(replies, m => m?["channel"]?.GetValue<string>() == channel && m["data"]?.GetValue<string>() == "hello");
    }

    [Fact]
    public async Task Subscribe_RulesPerChannel_DenyWithTheirReason_AndAreCounted()
    {
        await using var server = await TestServer.StartAsync(Rules);
        var denials = new ConcurrentQueue<(string Operation, string Reason)>();
        using var _ = AuthTokens.CountDenials(server, denials);
        using var alice = await ClientAsync(server, "alice");
        await alice.SubscribeAsync("/user/alice/inbox");
        // The first connect is answered at once; later ones wait for messages.
        await alice.SendAsync(alice.Connect(timeoutMs: 0));

        using var anonymous = await ClientAsync(server, null);
        AssertRefused(await SubscribeAsync(anonymous, "/members/chat"), "403:/members/chat:authentication_required");
        AssertRefused(await SubscribeAsync(anonymous, "/user/alice/inbox"), "403:/user/alice/inbox:authentication_required");
        using var bob = await ClientAsync(server, "bob");
        AssertRefused(await SubscribeAsync(bob, "/user/alice/inbox"), "403:/user/alice/inbox:not_your_channel");
        AssertRefused(await SubscribeAsync(bob, "/user/**"), "403:/user/**:not_your_channel");
        AssertRefused(await SubscribeAsync(bob, "/admin/panel"), "403:/admin/panel:role_required");
        AssertRefused(await SubscribeAsync(bob, "/vip/lounge"), "403:/vip/lounge:claim_required");
        await bob.SubscribeAsync("/user/bob/inbox");
        await bob.SubscribeAsync("/members/chat");
        using var admin = await ClientAsync(server, "root", new Dictionary<string, object> { ["role"] = "admin", ["tier"] = "gold" });
        await admin.SubscribeAsync("/admin/panel");
        await admin.SubscribeAsync("/vip/lounge");

        Assert.Equal(6, denials.Count);
        Assert.All(denials, d => Assert.Equal("subscribe", d.Operation));
        await AssertReceivesAsync(server, alice, "/user/alice/inbox");
    }

    [Fact]
    public async Task Publish_Nobody_IsServerOnly_AndOtherRulesApply()
    {
        await using var server = await TestServer.StartAsync(Rules);
        using var watcher = await ClientAsync(server, null);
        await watcher.SubscribeAsync("/ticker/**");
        await watcher.SendAsync(watcher.Connect(timeoutMs: 0));
        using var bob = await ClientAsync(server, "bob");

        AssertRefused((await bob.SendAsync(bob.Publish("/ticker/eur", 1)))[0]!.AsObject(), "403:/ticker/eur:server_only");
        AssertRefused((await bob.SendAsync(bob.Publish("/admin/panel", 1)))[0]!.AsObject(), "403:/admin/panel:role_required");
        AssertRefused((await bob.SendAsync(bob.Publish("/user/alice/inbox", 1)))[0]!.AsObject(), "403:/user/alice/inbox:not_your_channel");
        Assert.True((await bob.SendAsync(bob.Publish("/user/bob/inbox", 1)))[0]!["successful"]!.GetValue<bool>());
        // The backend still feeds the ticker.
        await AssertReceivesAsync(server, watcher, "/ticker/eur");
    }

    [Theory]
    [InlineData("/sse")]
    [InlineData("/stream")]
    public async Task Streams_FollowTheSameRules(string path)
    {
        await using var server = await TestServer.StartAsync(Rules);
        var url = new Uri(server.BaseAddress, path + "?channel=/user/alice/inbox");
        await using var anonymous = await LineStream.OpenAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Response.StatusCode);
        await using var bob = await LineStream.OpenAsync(new Uri(url + "&access_token=" + AuthTokens.Hs256("bob")));
        Assert.Equal(HttpStatusCode.Forbidden, bob.Response.StatusCode);
        Assert.Equal("/user/alice/inbox: not_your_channel", await bob.Response.Content.ReadAsStringAsync());
        await using var alice = await LineStream.OpenAsync(new Uri(url + "&access_token=" + AuthTokens.Hs256("alice")));
        Assert.Equal(HttpStatusCode.OK, alice.Response.StatusCode);
        await server.PublishAsync("/user/alice/inbox", "for alice");
        Assert.NotNull(await alice.NextAsync(l => l.Contains("for alice", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task HistoryAndResume_CannotReadWhatSubscribeWouldRefuse()
    {
        await using var server = await TestServer.StartAsync(Rules);
        var position = await server.PublishAsync("/user/alice/inbox", "secret");
        await server.PublishAsync("/user/alice/inbox", "later");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        async Task<(HttpStatusCode, string)> HistoryAsync(string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/history?channel=/user/alice/inbox");
            if (bearer is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
            }
            using var response = await http.SendAsync(request).Within();
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal((HttpStatusCode.Forbidden, "/user/alice/inbox: not_your_channel"), await HistoryAsync(AuthTokens.Hs256("bob")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await HistoryAsync("forged")).Item1);
        var (status, body) = await HistoryAsync(AuthTokens.Hs256("alice"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("secret", body, StringComparison.Ordinal);
        // Without a token the caller is the backend (no Halley:Api:Key: loopback callers are).
        Assert.Equal(HttpStatusCode.OK, (await HistoryAsync(null)).Item1);

        // A Bayeux resume and an SSE Last-Event-ID are subscriptions, and refused the same way.
        using var bob = await ClientAsync(server, "bob");
        AssertRefused(await SubscribeAsync(bob, "/user/alice/inbox", new JsonObject { ["halley"] = new JsonObject { ["position"] = position } }),
            "403:/user/alice/inbox:not_your_channel");
        await using var sse = await LineStream.OpenAsync(new Uri(server.BaseAddress, "/sse?channel=/user/alice/inbox&access_token=" + AuthTokens.Hs256("bob")), lastEventId: position);
        Assert.Equal(HttpStatusCode.Forbidden, sse.Response.StatusCode);
        // Alice resumes and gets what she missed.
        using var alice = await ClientAsync(server, "alice");
        var resumed = await SubscribeAsync(alice, "/user/alice/inbox", new JsonObject { ["halley"] = new JsonObject { ["position"] = position } });
        Assert.True(resumed["successful"]!.GetValue<bool>(), resumed.ToJsonString());
    }

    [Fact]
    public async Task SubscriptionTokens_GrantOneChannel_ToOneSubject()
    {
        await using var server = await TestServer.StartAsync(Rules);
        using var bob = await ClientAsync(server, "bob");
        JsonObject Grant(string channel, string subject) =>
            new() { ["auth"] = new JsonObject { ["subscriptionToken"] = AuthTokens.Hs256(subject, claims: new Dictionary<string, object> { ["channel"] = channel }) } };

        AssertRefused(await SubscribeAsync(bob, "/private/room"), "403:/private/room:subscription_token_required");
        AssertRefused(await SubscribeAsync(bob, "/private/room", Grant("/private/other", "bob")), "403:/private/room:invalid_subscription_token");
        AssertRefused(await SubscribeAsync(bob, "/private/room", Grant("/private/room", "alice")), "403:/private/room:invalid_subscription_token");
        var granted = await SubscribeAsync(bob, "/private/room", Grant("/private/room", "bob"));
        Assert.True(granted["successful"]!.GetValue<bool>(), granted.ToJsonString());

        // On a stream the token is a query parameter; an anonymous client's token has no subject.
        var url = new Uri(server.BaseAddress, "/sse?channel=/private/room");
        await using var refused = await LineStream.OpenAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        var anonymousGrant = AuthTokens.Mint(
            new Microsoft.IdentityModel.Tokens.SigningCredentials(new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(AuthTokens.Secret)), "HS256"),
            "", claims: new Dictionary<string, object> { ["channel"] = "/private/room" });
        await using var allowed = await LineStream.OpenAsync(new Uri(url + "&subscription_token=" + anonymousGrant));
        Assert.Equal(HttpStatusCode.OK, allowed.Response.StatusCode);
    }

    [Fact]
    public async Task ChannelAuthorizer_DecidesPerRequest_OnBayeuxAndStreams()
    {
        var authorizer = new BlockingAuthorizer();
        await using var server = await TestServer.StartAsync(b => b.Services.AddSingleton<IChannelAuthorizer>(authorizer), AuthTokens.Hs256Settings);
        using var bob = await ClientAsync(server, "bob");
        AssertRefused(await SubscribeAsync(bob, "/blocked/a"), "403:/blocked/a:blocked_by_host");
        AssertRefused((await bob.SendAsync(bob.Publish("/blocked/a", 1)))[0]!.AsObject(), "403:/blocked/a:blocked_by_host");
        await using var sse = await LineStream.OpenAsync(new Uri(server.BaseAddress, "/sse?channel=/blocked/a"));
        Assert.Equal(HttpStatusCode.Forbidden, sse.Response.StatusCode);
        await bob.SubscribeAsync("/open");
        await bob.SendAsync(bob.Connect(timeoutMs: 0));
        await AssertReceivesAsync(server, bob, "/open");

        var asked = authorizer.Asked.ToArray();
        Assert.Contains((ChannelOperation.Subscribe, "/blocked/a", (string?)"bob", "bayeux"), asked);
        Assert.Contains((ChannelOperation.Publish, "/blocked/a", (string?)"bob", "bayeux"), asked);
        Assert.Contains((ChannelOperation.Subscribe, "/blocked/a", (string?)null, "sse"), asked);
    }
}
