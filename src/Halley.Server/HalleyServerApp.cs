using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using System.Text.Json;
using Halley.Redis;
using Halley.Server.Samples;

namespace Halley.Server;

/// <summary>Builds the web application <c>halley serve</c> runs, so tests start exactly what users start.</summary>
public static class HalleyServerApp
{
    /// <summary>Where the server listens when no address is configured.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>Builds the server from command-line arguments in the .NET configuration style (<c>--urls</c>, <c>--Halley:Timeout=…</c>).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // --urls, ASPNETCORE_URLS and Kestrel:Endpoints all land in configuration; fall back only when none is set.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        // WebSocket upgrades of /cometd are taken before the HTTP layer (Halley:WebSockets:AcceptAtConnectionLevel).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.UseHalleyWebSockets()));
        // Kestrel reads its endpoints from configuration but not its limits: the slow-sender timeouts and header limits
        // are settings of the server too (docs/security.md), as Kestrel:Limits:….
        builder.WebHost.ConfigureKestrel((context, kestrel) => KestrelLimits.Bind(context.Configuration.GetSection("Kestrel:Limits"), kestrel.Limits));
        var halley = builder.Services.AddHalley()
            .AddService("/service/echo", static (call, _) => ValueTask.FromResult<object?>(call.Data));
        // Halley:Redis:Configuration (a StackExchange.Redis connection string) switches the node to the Redis engine;
        // without it the node runs on the in-memory engine.
        if (!string.IsNullOrWhiteSpace(builder.Configuration[Halley.Redis.RedisEngineOptions.SectionName + ":Configuration"]))
        {
            halley.UseRedis(static _ => { });
        }
        builder.Services.AddHealthChecks();
        // The chat and ticker samples (/samples/…): pages, the chat's history service, the simulated price feed.
        var samples = builder.AddSamples();
        builder.Services.AddSingleton(sp => new StartPage.StartPageEndpoint(sp.GetRequiredService<Halley.Engine.IMessageEngine>(), samples));
        configure?.Invoke(builder);

        var app = builder.Build();
        if (samples)
        {
            app.UseSamples();
        }
        app.MapHalley();
        // Liveness runs no check (a node whose Redis is down is still alive and keeps its sessions); readiness runs
        // the engine's (Halley.Redis: connected, and its subscription delivers), so a balancer can take the node out.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = static _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = static check => check.Tags.Contains(Halley.Redis.RedisEngineHealthCheck.ReadyTag) });
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], app.Services.GetRequiredService<StartPage.StartPageEndpoint>().HandleAsync);
        return app;
    }

    /// <summary>The JSON options the CLI uses to print messages.</summary>
    internal static readonly JsonSerializerOptions PrintOptions = new() { WriteIndented = false };
}
