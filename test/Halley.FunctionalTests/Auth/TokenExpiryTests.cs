using System.Diagnostics;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Streaming;

namespace Halley.FunctionalTests.Auth;

/// <summary>
/// A connection token's expiry holds during the session, not only at handshake: connect replies say to refresh, a
/// fresh token in the next message's ext.auth.token renews the session, and a session left to expire is ended with
/// 403::token_expired when its token runs out, even in the middle of a held connect.
/// </summary>
public sealed class TokenExpiryTests
{
    // Every token of these tests expires within RefreshBefore, so each connect reply carries the hint.
    private static readonly string[] Settings = [.. AuthTokens.Hs256Settings, "Halley:Auth:RefreshBefore=01:00:00", "Halley:Timeout=00:00:20"];

    [Fact]
    public async Task ExpiredSession_IsEndedWithItsReason_WhenTheTokenRunsOut_AndOthersCarryOn()
    {
        await using var server = await TestServer.StartAsync(Settings);
        using var other = new BayeuxHttp(server);
        await other.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("olga")));
        await other.SubscribeAsync("/chat");

        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("sam", TimeSpan.FromSeconds(3))));
        var first = (await client.SendAsync(client.Connect(timeoutMs: 0)))[0]!;
        Assert.True(first["successful"]!.GetValue<bool>());
        Assert.True(first["ext"]!["auth"]!["refresh"]!.GetValue<bool>());
        Assert.InRange(first["ext"]!["auth"]!["expiresIn"]!.GetValue<long>(), 0, 3000);

        // Connects (each up to 20 s) are held ever shorter, each reply asking again for a refresh, until the token
        // runs out and the session ends with the reason.
        var watch = Stopwatch.StartNew();
        JsonNode held;
        while ((held = (await client.SendAsync(client.Connect()))[0]!)["successful"]!.GetValue<bool>())
        {
            Assert.True(held["ext"]!["auth"]!["refresh"]!.GetValue<bool>());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"still connected after {watch.Elapsed}");
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"held {watch.Elapsed}");
        Assert.Equal("403::token_expired", held["error"]!.GetValue<string>());
        Assert.Equal("handshake", held["advice"]!["reconnect"]!.GetValue<string>());

        var after = (await client.SendAsync(client.Subscribe("/chat")))[0]!;
        Assert.Equal("402::session_unknown", after["error"]!.GetValue<string>());
        var published = (await other.SendAsync(other.Publish("/chat", "still here")))[0]!;
        Assert.True(published["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task FreshToken_InTheNextMessage_RenewsTheSession_ForTheSameSubjectOnly()
    {
        await using var server = await TestServer.StartAsync(Settings);
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("sam", TimeSpan.FromSeconds(3))));

        var impostor = (await client.SendAsync(client.Connect(timeoutMs: 0, ext: AuthTokens.Ext(AuthTokens.Hs256("mallory")))))[0]!;
        Assert.Equal("403::subject_mismatch", impostor["error"]!.GetValue<string>());
        var forged = (await client.SendAsync(client.Connect(timeoutMs: 0, ext: AuthTokens.Ext("not.a.token"))))[0]!;
        Assert.Equal("403::invalid_token", forged["error"]!.GetValue<string>());

        var renewed = (await client.SendAsync(client.Connect(timeoutMs: 0, ext: AuthTokens.Ext(AuthTokens.Hs256("sam", TimeSpan.FromMinutes(10))))))[0]!;
        Assert.True(renewed["successful"]!.GetValue<bool>(), renewed.ToJsonString());
        Assert.True(renewed["ext"]!["auth"]!["expiresIn"]!.GetValue<long>() > 60_000);

        // Held past the first token's expiry: the session lives on.
        var held = (await client.SendAsync(client.Connect(timeoutMs: 5000)))[0]!;
        Assert.True(held["successful"]!.GetValue<bool>(), held.ToJsonString());
        var subscribed = (await client.SendAsync(client.Subscribe("/chat")))[0]!;
        Assert.True(subscribed["successful"]!.GetValue<bool>(), subscribed.ToJsonString());
    }

    [Fact]
    public async Task WebSocket_SessionEnds_WhenItsTokenExpires()
    {
        await using var server = await TestServer.StartAsync(Settings);
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("wes", TimeSpan.FromSeconds(3))));
        var first = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(first["ext"]!["auth"]!["refresh"]!.GetValue<bool>());
        JsonObject held;
        while ((held = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket" }))["successful"]!.GetValue<bool>())
        {
            Assert.True(held["ext"]!["auth"]!["refresh"]!.GetValue<bool>());
        }
        Assert.Equal("403::token_expired", held["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/sse")]
    [InlineData("/stream")]
    public async Task Stream_ClosesWhenItsTokenExpires(string path)
    {
        await using var server = await TestServer.StartAsync(Settings);
        await using var lasting = await LineStream.OpenAsync(new Uri(server.BaseAddress, path + "?channel=/news&access_token=" + AuthTokens.Hs256("long")));
        await using var stream = await LineStream.OpenAsync(new Uri(server.BaseAddress, path + "?channel=/news&access_token=" + AuthTokens.Hs256("short", TimeSpan.FromSeconds(3))));
        Assert.Equal(System.Net.HttpStatusCode.OK, stream.Response.StatusCode);
        // Read until the server ends the stream: well before its 10-minute lifetime.
        Assert.Null(await stream.NextAsync(_ => false, TimeSpan.FromSeconds(20)));
        Assert.True(stream.Ended);
        await server.PublishAsync("/news", "still streaming");
        Assert.NotNull(await lasting.NextAsync(l => l.Contains("still streaming", StringComparison.Ordinal)));
    }
}
