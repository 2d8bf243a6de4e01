using System.Net;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Halley.Server.Samples.Chat;
using Halley.Server.Samples.Ticker;
using Halley.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Halley.FunctionalTests;

/// <summary>
/// The samples of <c>halley serve</c> (<c>/samples/chat/</c>, <c>/samples/ticker/</c>): their files, the chat's history
/// service, the ticker's feed; and that the library alone has none of it. Their pages run in the browser suite
/// (test/browser/samples.test.mjs).
/// </summary>
public sealed class SamplesTests
{
    [Theory]
    [InlineData("/samples/chat/", "text/html; charset=utf-8", "<script type=\"module\" src=\"chat.js\"></script>")]
    [InlineData("/samples/chat/chat.js", "text/javascript; charset=utf-8", "import { HalleyClient } from '/halley.js';")]
    [InlineData("/samples/chat/chat.css", "text/css; charset=utf-8", "#messages")]
    [InlineData("/samples/ticker/", "text/html; charset=utf-8", "<script type=\"module\" src=\"ticker.js\"></script>")]
    [InlineData("/samples/ticker/ticker.js", "text/javascript; charset=utf-8", "import { HalleyClient } from '/halley.js';")]
    [InlineData("/samples/ticker/ticker.css", "text/css; charset=utf-8", "@keyframes flash-up")]
    [InlineData("/samples/samples.css", "text/css; charset=utf-8", "--up-bg")]
    public async Task SampleFiles_AreServed_WithTheirContentTypes(string path, string contentType, string content)
    {
        await using var server = await StartWithSamplesAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.ToString());
        Assert.True(response.Headers.CacheControl?.NoCache, "revalidated on every load, as /halley.js is");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains(content, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/samples/chat", HttpStatusCode.MovedPermanently)]
    [InlineData("/samples/chat/missing.js", HttpStatusCode.NotFound)]
    [InlineData("/samples/", HttpStatusCode.NotFound)]
    public async Task OtherSamplePaths_RedirectToTheFolder_OrAreNotFound(string path, HttpStatusCode status)
    {
        await using var server = await StartWithSamplesAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();

        Assert.Equal(status, response.StatusCode);
        if (status == HttpStatusCode.MovedPermanently)
        {
            Assert.Equal(path + "/", response.Headers.Location?.AbsolutePath);
        }
    }

    [Fact]
    public async Task StartPage_LinksToTheSamples()
    {
        await using var server = await StartWithSamplesAsync();
        var (status, html) = await server.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<a href=\"/samples/chat/\">", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/samples/ticker/\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ticker_WhenEnabled_PublishesQuotesOfEverySymbol_OnTheirChannels()
    {
        await using var server = await StartWithSamplesAsync("Halley:Samples:Ticker:Enabled=true", "Halley:Samples:Ticker:UpdatesPerSecond=500");
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync(TickerFeed.ChannelPrefix + "*");

        var symbols = new HashSet<string>(StringComparer.Ordinal);
        using var deadline = new CancellationTokenSource(Timeouts.Default);
        while (symbols.Count < PriceWalk.Listings.Length)
        {
            deadline.Token.ThrowIfCancellationRequested();
            foreach (var quote in (await client.SendAsync(client.Connect()).Within()).OfType<JsonObject>().Where(m => m["data"] is not null))
            {
                var data = quote["data"]!.AsObject();
                var symbol = data["symbol"]!.GetValue<string>();
                Assert.Equal(TickerFeed.ChannelPrefix + symbol, quote["channel"]!.GetValue<string>());
                Assert.True(data["price"]!.GetValue<double>() > 0, quote.ToJsonString());
                Assert.NotNull(data["change"]);
                Assert.NotNull(data["changePercent"]);
                symbols.Add(symbol);
            }
        }
        Assert.Equal(PriceWalk.Listings.Select(l => l.Symbol).Order(), symbols.Order());
    }

    [Fact]
    public async Task Ticker_WhenDisabled_IsNotThere_AndPublishesNothing()
    {
        await using var server = await StartWithSamplesAsync();
        Assert.DoesNotContain(server.Services.GetServices<IHostedService>(), s => s is TickerFeed);

        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        await client.SubscribeAsync(TickerFeed.ChannelPrefix + "*");
        await server.PublishAsync(TickerFeed.ChannelPrefix + "MARK", "marker");

        // The backend's marker is all there is on the ticker's channels.
        var events = (await client.SendAsync(client.Connect()).Within()).OfType<JsonObject>().Where(m => m["data"] is not null).ToList();
        Assert.Equal(TickerFeed.ChannelPrefix + "MARK", Assert.Single(events)["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ticker_RefusesARateOutOfRange_AtStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithSamplesAsync(
            "Halley:Samples:Ticker:Enabled=true", "Halley:Samples:Ticker:UpdatesPerSecond=0"));
        Assert.Contains("UpdatesPerSecond", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatHistory_AnswersTheRoomsRecentMessages_OldestFirst_WithTheirPositions()
    {
        await using var server = await StartWithSamplesAsync();
        var positions = new List<string?>();
        for (var i = 1; i <= 3; i++)
        {
            positions.Add(await server.PublishAsync(ChatHistoryService.RoomPrefix + "history-room", new JsonObject { ["text"] = $"m{i}" }));
        }
        await server.PublishAsync(ChatHistoryService.RoomPrefix + "another-room", new JsonObject { ["text"] = "elsewhere" });
        Assert.All(positions, Assert.NotNull);

        var answer = await CallHistoryAsync(server, new JsonObject { ["room"] = "history-room" });

        var messages = answer["messages"]!.AsArray();
        Assert.Equal(["m1", "m2", "m3"], messages.Select(m => m!["data"]!["text"]!.GetValue<string>()));
        Assert.Equal(positions, messages.Select(m => m!["position"]!.GetValue<string>()));
        Assert.Null(answer["error"]);
    }

    [Fact]
    public async Task ChatHistory_OfARoomWithNoMessage_IsEmpty()
    {
        await using var server = await StartWithSamplesAsync();
        var answer = await CallHistoryAsync(server, new JsonObject { ["room"] = "quiet" });
        Assert.Empty(answer["messages"]!.AsArray());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"room":""}""")]
    [InlineData("""{"room":"a/b"}""")]
    [InlineData("""{"room":"*"}""")]
    [InlineData("""{"room":"Lobby"}""")]
    [InlineData("""{"room":7}""")]
    [InlineData("\"lobby\"")]
    [InlineData("""{"room":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""")]
    public async Task ChatHistory_RefusesAnythingButARoomName(string data)
    {
        await using var server = await StartWithSamplesAsync();
        // A room is a name, never a channel or pattern: the service reads no other history than the rooms'.
        await server.PublishAsync("/samples/chat/a/b", "not a room");

        var answer = await CallHistoryAsync(server, JsonNode.Parse(data));

        Assert.Equal("invalid_room", answer["error"]!.GetValue<string>());
        Assert.Empty(answer["messages"]!.AsArray());
    }

    [Fact]
    public async Task Samples_WhenDisabled_AreNotThere()
    {
        await using var server = await TestServer.StartAsync("Halley:Samples:Enabled=false", "Halley:Samples:Ticker:Enabled=true");

        AssertNoSampleService(server.Services);
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync("/samples/chat/")).Status);
        var (status, html) = await server.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("/samples/", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Endpoints</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatRooms_KeepAHistory_UnlessTheConfigurationSaysOtherwise()
    {
        await using (var server = await StartWithSamplesAsync())
        {
            var rule = server.Get<IOptions<HalleyOptions>>().Value.History.Channels[ChatHistoryService.RoomPattern];
            Assert.Equal((100, TimeSpan.FromHours(1)), (rule.Size, rule.Ttl));
        }
        await using (var server = await StartWithSamplesAsync($"Halley:History:Channels:{ChatHistoryService.RoomPattern}:Size=5"))
        {
            Assert.Equal(5, server.Get<IOptions<HalleyOptions>>().Value.History.Channels[ChatHistoryService.RoomPattern].Size);
        }
    }

    [Fact]
    public async Task TheLibraryAlone_HasNoSample()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHalley();
        await using var app = builder.Build();
        app.MapHalley();
        await app.StartAsync().Within();
        try
        {
            AssertNoSampleService(app.Services);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            foreach (var path in new[] { "/samples/chat/", "/samples/ticker/", "/samples/samples.css" })
            {
                using var response = await http.GetAsync(path).Within();
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }
        finally
        {
            await app.StopAsync().Within();
        }
    }

    /// <summary>No feed, no chat history service or channel, no history rule for the rooms.</summary>
    private static void AssertNoSampleService(IServiceProvider services)
    {
        Assert.DoesNotContain(services.GetServices<IHostedService>(), s => s is TickerFeed);
        Assert.Null(services.GetService<ChatHistoryService>());
        Assert.False(services.GetRequiredService<IOptions<ServiceChannelOptions>>().Value.Handlers.ContainsKey(ChatHistoryService.Channel));
        Assert.DoesNotContain(ChatHistoryService.RoomPattern, services.GetRequiredService<IOptions<HalleyOptions>>().Value.History.Channels.Keys);
    }

    /// <summary>A server with the samples, as <c>halley serve</c> has them, but the ticker's feed only when asked for.</summary>
    private static Task<TestServer> StartWithSamplesAsync(params string[] settings) =>
        TestServer.StartAsync(["Halley:Samples:Enabled=true", "Halley:Samples:Ticker:Enabled=false", .. settings]);

    private static async Task<JsonObject> CallHistoryAsync(TestServer server, JsonNode? data)
    {
        using var client = new BayeuxHttp(server);
        await client.HandshakeAsync();
        var reply = (await client.SendAsync(client.Publish(ChatHistoryService.Channel, data)).Within())
            .OfType<JsonObject>().Single(m => m["channel"]?.GetValue<string>() == ChatHistoryService.Channel);
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        return reply["data"]!.AsObject();
    }
}
