using Halley.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>A real Halley server (the same composition as <c>halley serve</c>) on a free loopback port.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri Bayeux => new(BaseAddress, "/cometd");

    public Uri WebSocketUri => new UriBuilder(Bayeux) { Scheme = "ws" }.Uri;

    public IServiceProvider Services => _app.Services;

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Starts a server; <paramref name="settings"/> are configuration keys such as <c>Halley:Timeout=00:00:01</c>.</summary>
    public static Task<TestServer> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <summary>Starts a server, letting <paramref name="configure"/> change what configuration cannot (Kestrel limits).</summary>
    public static async Task<TestServer> StartAsync(Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        // Without the samples unless a test turns them on (a later setting wins): the ticker's quotes would land in the
        // wildcard subscriptions of tests that count what they receive, and the chat's history rule would give every
        // stream a starting position.
        string[] args = ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--Halley:Samples:Enabled=false", .. settings.Select(s => "--" + s)];
        var app = HalleyServerApp.Build(args, configure);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
