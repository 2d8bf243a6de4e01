using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Halley.FunctionalTests.Auth;

/// <summary>Signing keys from an identity provider's JWKS URL, served here by a Kestrel of the test, and rotated.</summary>
public sealed class JwksTests
{
    /// <summary>The JWKS endpoint of a pretend identity provider; <see cref="Keys"/> is what it publishes now.</summary>
    private sealed class Provider : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Provider(WebApplication app, Uri url)
        {
            _app = app;
            Url = url;
        }

        public volatile RsaSecurityKey[] Keys = [];

        public int Fetches;

        public Uri Url { get; }

        public static async Task<Provider> StartAsync()
        {
            var builder = WebApplication.CreateBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            Provider? provider = null;
            app.MapGet("/jwks", () =>
            {
                Interlocked.Increment(ref provider!.Fetches);
                return Results.Text(new JsonObject { ["keys"] = new JsonArray([.. provider.Keys.Select(Jwk)]) }.ToJsonString(), "application/json");
            });
            await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            provider = new Provider(app, new Uri(new Uri(address), "/jwks"));
            return provider;
        }

        private static JsonNode Jwk(RsaSecurityKey key)
        {
            var parameters = key.Rsa.ExportParameters(false);
            return new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = key.KeyId,
                ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            };
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static string Sign(RsaSecurityKey key, string subject) => AuthTokens.Mint(new SigningCredentials(key, SecurityAlgorithms.RsaSha256), subject);

    [Fact]
    public async Task KeysAreFetched_AndARotationIsFollowed()
    {
        using var rsa1 = RSA.Create(2048);
        using var rsa2 = RSA.Create(2048);
        var first = new RsaSecurityKey(rsa1) { KeyId = "k1" };
        var second = new RsaSecurityKey(rsa2) { KeyId = "k2" };
        await using var provider = await Provider.StartAsync();
        provider.Keys = [first];
        await using var server = await TestServer.StartAsync(
            "Halley:Auth:AllowAnonymous=false", "Halley:Auth:Jwt:JwksUrl=" + provider.Url, "Halley:Auth:Jwt:JwksMinRefreshInterval=00:00:00");

        using var before = new BayeuxHttp(server);
        await before.HandshakeAsync(AuthTokens.Ext(Sign(first, "alice")));
        Assert.Equal(1, provider.Fetches);

        // The provider rotates: k2 replaces k1. A token naming k2 makes Halley fetch the set again.
        provider.Keys = [second];
        using var after = new BayeuxHttp(server);
        await after.HandshakeAsync(AuthTokens.Ext(Sign(second, "bob")));
        Assert.Equal(2, provider.Fetches);

        using var stale = new BayeuxHttp(server);
        var reply = (await stale.SendAsync(AuthenticationTests.HandshakeMessage(AuthTokens.Ext(Sign(first, "alice")))))[0]!;
        Assert.Equal("403::invalid_token", reply["error"]!.GetValue<string>());
        // The session made before the rotation carries on.
        Assert.True((await before.SendAsync(before.Subscribe("/chat")))[0]!["successful"]!.GetValue<bool>());
    }

    [Fact]
    public async Task UnknownKeys_DoNotRefetchMoreThanTheMinimumInterval()
    {
        using var rsa = RSA.Create(2048);
        using var rogue = RSA.Create(2048);
        await using var provider = await Provider.StartAsync();
        provider.Keys = [new RsaSecurityKey(rsa) { KeyId = "k1" }];
        await using var server = await TestServer.StartAsync("Halley:Auth:Jwt:JwksUrl=" + provider.Url, "Halley:Auth:Jwt:JwksMinRefreshInterval=01:00:00");
        for (var i = 0; i < 5; i++)
        {
            using var client = new BayeuxHttp(server);
            var reply = (await client.SendAsync(AuthenticationTests.HandshakeMessage(AuthTokens.Ext(Sign(new RsaSecurityKey(rogue) { KeyId = "x" + i }, "mallory")))))[0]!;
            Assert.Equal("403::invalid_token", reply["error"]!.GetValue<string>());
        }
        Assert.Equal(1, provider.Fetches);
    }
}
