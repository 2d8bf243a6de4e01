using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Halley.FunctionalTests.Auth;

/// <summary>
/// Connection tokens (JWT) on every way a client can carry one, anonymous access as a setting, and the denials: each
/// refused client gets its reason, is counted, and the other clients of the same server carry on.
/// </summary>
public sealed class AuthenticationTests
{
    private static readonly string[] AnonymousOff = [.. AuthTokens.Hs256Settings, "Halley:Auth:AllowAnonymous=false"];

    [Fact]
    public async Task Handshake_WithExtAuthToken_IsAccepted_AndABadOneIsRefusedAndCounted()
    {
        await using var server = await TestServer.StartAsync(AnonymousOff);
        var denials = new ConcurrentQueue<(string Operation, string Reason)>();
        using var _ = AuthTokens.CountDenials(server, denials);
        using var good = new BayeuxHttp(server);
        await good.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("alice")));
        await good.SubscribeAsync("/chat");

        using var bad = new BayeuxHttp(server);
        var forged = (await bad.SendAsync(HandshakeMessage(AuthTokens.Ext(AuthTokens.Hs256("mallory", secret: "another-secret-that-is-32-bytes-long!!")))))[0]!;
        Assert.False(forged["successful"]!.GetValue<bool>());
        Assert.Equal("403::invalid_token", forged["error"]!.GetValue<string>());
        Assert.Equal("none", forged["advice"]?["reconnect"]?.GetValue<string>());

        var anonymous = (await bad.SendAsync(HandshakeMessage(null)))[0]!;
        Assert.Equal("403::authentication_required", anonymous["error"]!.GetValue<string>());

        var expired = (await bad.SendAsync(HandshakeMessage(AuthTokens.Ext(AuthTokens.Hs256("alice", TimeSpan.FromMinutes(-1))))))[0]!;
        Assert.Equal("403::token_expired", expired["error"]!.GetValue<string>());

        Assert.Equal([("handshake", "invalid_token"), ("handshake", "authentication_required"), ("handshake", "token_expired")], denials.ToArray());
        // The authenticated client carried on meanwhile.
        var published = (await good.SendAsync(good.Publish("/chat", "still here")))[0]!;
        Assert.True(published["successful"]!.GetValue<bool>(), published.ToJsonString());
    }

    [Fact]
    public async Task AnonymousAccess_IsOnByDefault()
    {
        await using var server = await TestServer.StartAsync(AuthTokens.Hs256Settings);
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync("/open");
    }

    [Fact]
    public async Task LongPolling_WithBearerHeader_IsThatUser_AndABadHeaderGets401()
    {
        await using var server = await TestServer.StartAsync(AnonymousOff);
        using var client = new BayeuxHttp(server);
        client.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuthTokens.Hs256("bob"));
        await client.HandshakeAsync();
        await client.SubscribeAsync("/chat");

        using var bad = new BayeuxHttp(server);
        bad.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.token");
        using var refused = await bad.PostRawAsync(new JsonArray(HandshakeMessage(null)).ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("invalid_token", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Cookie_CarriesTheToken_WhenConfigured()
    {
        await using var server = await TestServer.StartAsync([.. AnonymousOff, "Halley:Auth:Jwt:Cookie=halley_token"]);
        using var client = new BayeuxHttp(server);
        client.Cookies.Add(server.BaseAddress, new Cookie("halley_token", AuthTokens.Hs256("carol")));
        await client.HandshakeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WebSocket_CarriesTheToken_InTheUpgrade_OnBothAcceptPaths(bool connectionLevel)
    {
        await using var server = await TestServer.StartAsync([.. AnonymousOff, $"Halley:WebSockets:AcceptAtConnectionLevel={connectionLevel}"]);
        await using var byHeader = await BayeuxSocket.ConnectAsync(server, bearer: AuthTokens.Hs256("dave"));
        await byHeader.HandshakeAsync();
        await using var byQuery = await BayeuxSocket.ConnectAsync(server, query: "access_token=" + AuthTokens.Hs256("erin"));
        await byQuery.HandshakeAsync();

        using var refused = new ClientWebSocket();
        var error = await Assert.ThrowsAsync<WebSocketException>(() =>
            refused.ConnectAsync(new UriBuilder(server.WebSocketUri) { Query = "access_token=forged" }.Uri, CancellationToken.None).Within());
        Assert.Contains("401", error.Message);

        // Without any token the upgrade passes (a handshake may still carry one), but an anonymous handshake does not.
        await using var anonymous = await BayeuxSocket.ConnectAsync(server);
        var reply = await anonymous.RequestAsync(HandshakeMessage(null, "websocket"));
        Assert.Equal("403::authentication_required", reply["error"]!.GetValue<string>());
        await anonymous.HandshakeAsync(AuthTokens.Ext(AuthTokens.Hs256("frank")));

        var carriedOn = await byHeader.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/x" });
        Assert.True(carriedOn["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Streams_NeedAnIdentity_WhenAnonymousIsOff()
    {
        await using var server = await TestServer.StartAsync(AnonymousOff);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        foreach (var path in new[] { "/sse?channel=/a", "/stream?channel=/a" })
        {
            using var anonymous = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead).Within();
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("authentication_required", await anonymous.Content.ReadAsStringAsync());
            using var forged = await http.GetAsync(path + "&access_token=forged", HttpCompletionOption.ResponseHeadersRead).Within();
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
            using var allowed = await http.GetAsync(path + "&access_token=" + AuthTokens.Hs256("gina"), HttpCompletionOption.ResponseHeadersRead).Within();
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
    }

    [Fact]
    public async Task Rs256AndEs256_PublicKeysInPem_AreAccepted()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var server = await TestServer.StartAsync(
            "Halley:Auth:AllowAnonymous=false",
            "Halley:Auth:Jwt:Keys:0:PublicKey=" + AuthTokens.PublicPem(rsa),
            "Halley:Auth:Jwt:Keys:1:PublicKey=" + AuthTokens.PublicPem(ec),
            "Halley:Auth:Jwt:Issuer=https://issuer.example",
            "Halley:Auth:Jwt:Audience=halley");
        var claims = new Dictionary<string, object> { ["iss"] = "https://issuer.example", ["aud"] = "halley" };
        using var viaRsa = new BayeuxHttp(server);
        await viaRsa.HandshakeAsync(AuthTokens.Ext(AuthTokens.Mint(new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256), "rita", claims: claims)));
        using var viaEc = new BayeuxHttp(server);
        await viaEc.HandshakeAsync(AuthTokens.Ext(AuthTokens.Mint(new SigningCredentials(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256), "eric", claims: claims)));

        var wrongAudience = new Dictionary<string, object> { ["iss"] = "https://issuer.example", ["aud"] = "other" };
        using var refused = new BayeuxHttp(server);
        var reply = (await refused.SendAsync(HandshakeMessage(AuthTokens.Ext(AuthTokens.Mint(new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256), "rita", claims: wrongAudience)))))[0]!;
        Assert.Equal("403::invalid_token", reply["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task BadKeys_AreRefusedAtStartUp_WithTheKeyThatIsWrong()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("Halley:Auth:Jwt:Keys:0:Secret=short"));
        Assert.Contains("Halley:Auth:Jwt:Keys:0", error.ToString());
    }

    internal static JsonObject HandshakeMessage(JsonObject? ext, string connectionType = "long-polling")
    {
        var message = new JsonObject
        {
            ["channel"] = "/meta/handshake",
            ["version"] = "1.0",
            ["supportedConnectionTypes"] = new JsonArray(connectionType),
            ["id"] = "h",
        };
        if (ext is not null)
        {
            message["ext"] = ext;
        }
        return message;
    }
}
