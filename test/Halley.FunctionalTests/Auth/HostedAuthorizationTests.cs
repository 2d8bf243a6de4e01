using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.FunctionalTests.Auth;

/// <summary>
/// Halley inside an ASP.NET Core app: <c>MapHalley().RequireAuthorization()</c> puts the app's authorization in front
/// of every path (the connection-level WebSocket accept included), and the app's <c>HttpContext.User</c> is the
/// session's identity, to which the channel rules apply.
/// </summary>
public sealed class HostedAuthorizationTests
{
    /// <summary>The app's own sign-in, reduced to a header naming the user.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "TestHeader";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers["X-Test-User"] is not [{ Length: > 0 } name])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, name!)], Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
        }
    }

    private static async Task<(WebApplication App, Uri Address)> StartAppAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.UseHalleyWebSockets()));
        builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
        builder.Services.AddAuthorization();
        builder.Services.AddHalley(o => o.Auth.Channels.Add(new ChannelRule { Pattern = "/user/{sub}/**", Subscribe = "authenticated" }));
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHalley().RequireAuthorization();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    private static async Task<JsonArray> PostAsync(HttpClient http, JsonObject message, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await http.PostAsync("/cometd", new StringContent(new JsonArray(message).ToJsonString(), System.Text.Encoding.UTF8, "application/json")).Within();
        Assert.Equal(expected, response.StatusCode);
        return expected == HttpStatusCode.OK ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray() : [];
    }

    [Fact]
    public async Task RequireAuthorization_GuardsEveryPath_AndTheAppsUserIsTheSessionsIdentity()
    {
        var (app, address) = await StartAppAsync();
        await using var _ = app;
        using var anonymous = new HttpClient { BaseAddress = address };
        await PostAsync(anonymous, AuthenticationTests.HandshakeMessage(null), HttpStatusCode.Unauthorized);
        using var sse = await anonymous.GetAsync("/sse?channel=/a", HttpCompletionOption.ResponseHeadersRead).Within();
        Assert.Equal(HttpStatusCode.Unauthorized, sse.StatusCode);
        using var refusedSocket = new ClientWebSocket();
        var wsUri = new UriBuilder(address) { Scheme = "ws", Path = "/cometd" }.Uri;
        var error = await Assert.ThrowsAsync<WebSocketException>(() => refusedSocket.ConnectAsync(wsUri, CancellationToken.None).Within());
        Assert.Contains("401", error.Message);

        using var alice = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = address };
        alice.DefaultRequestHeaders.Add("X-Test-User", "alice");
        var handshake = (await PostAsync(alice, AuthenticationTests.HandshakeMessage(null)))[0]!;
        Assert.True(handshake["successful"]!.GetValue<bool>(), handshake.ToJsonString());
        var clientId = handshake["clientId"]!.GetValue<string>();
        JsonObject Subscribe(string channel) => new() { ["channel"] = "/meta/subscribe", ["clientId"] = clientId, ["subscription"] = channel, ["id"] = "s" };
        Assert.True((await PostAsync(alice, Subscribe("/user/alice/inbox")))[0]!["successful"]!.GetValue<bool>());
        Assert.Equal("403:/user/bob/inbox:not_your_channel", (await PostAsync(alice, Subscribe("/user/bob/inbox")))[0]!["error"]!.GetValue<string>());

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Test-User", "alice");
        await socket.ConnectAsync(wsUri, CancellationToken.None).Within();
        Assert.Equal(WebSocketState.Open, socket.State);
    }
}
