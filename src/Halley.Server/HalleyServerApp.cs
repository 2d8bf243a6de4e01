using System.Text.Json;
using Halley.Redis;

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
        builder.Services.AddSingleton<StartPage.StartPageEndpoint>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapHalley();
        app.MapHealthChecks("/healthz");
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], app.Services.GetRequiredService<StartPage.StartPageEndpoint>().HandleAsync);
        return app;
    }

    /// <summary>The JSON options the CLI uses to print messages.</summary>
    internal static readonly JsonSerializerOptions PrintOptions = new() { WriteIndented = false };
}
