using Halley.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Halley.Redis;

/// <summary>Runs a Halley node on Redis: <c>services.AddHalley().UseRedis("localhost:6379")</c>.</summary>
public static class RedisHalleyBuilderExtensions
{
    /// <summary>
    /// Runs this node on the Redis engine (<see cref="RedisMessageEngine"/>) over the StackExchange.Redis connection
    /// string <paramref name="configuration"/>, e.g. <c>localhost:6379</c>.
    /// </summary>
    public static IHalleyBuilder UseRedis(this IHalleyBuilder builder, string configuration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return builder.UseRedis(o => o.Configuration = configuration);
    }

    /// <summary>
    /// Runs this node on the Redis engine (<see cref="RedisMessageEngine"/>), with options bound from the configuration
    /// section <c>Halley:Redis</c> and then set by <paramref name="configure"/>. Connects when the engine is first
    /// needed; an unreachable Redis fails the start with an error that names the configuration it tried.
    /// </summary>
    public static IHalleyBuilder UseRedis(this IHalleyBuilder builder, Action<RedisEngineOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<RedisEngineOptions>().BindConfiguration(RedisEngineOptions.SectionName).Configure(configure);
        builder.Services.TryAddSingleton<IConnectionMultiplexer>(sp => Connect(sp.GetRequiredService<IOptions<RedisEngineOptions>>().Value));
        // Started with the host, so an unreachable Redis fails the start rather than the first request.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisEngineStarter>());
        builder.UseEngine<RedisMessageEngine>();
        builder.Services.TryAddSingleton(sp => (RedisMessageEngine)sp.GetRequiredService<IMessageEngine>());
        builder.Services.AddHealthChecks().AddCheck<RedisEngineHealthCheck>("redis", tags: [RedisEngineHealthCheck.ReadyTag]);
        // Presence across the cluster, refreshed by the store itself while the host runs.
        builder.Services.RemoveAll<Presence.IPresenceStore>();
        builder.Services.TryAddSingleton<RedisPresenceStore>();
        builder.Services.AddSingleton<Presence.IPresenceStore>(sp => sp.GetRequiredService<RedisPresenceStore>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RedisPresenceStore>());
        return builder;
    }

    /// <summary>Resolves the node (and so connects to Redis and starts the engine) when the host starts.</summary>
    private sealed class RedisEngineStarter(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<MessageHub>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static ConnectionMultiplexer Connect(RedisEngineOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            throw new InvalidOperationException($"The Redis engine needs a connection string: set {RedisEngineOptions.SectionName}:Configuration (e.g. localhost:6379).");
        }
        try
        {
            return ConnectionMultiplexer.Connect(options.Configuration);
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException(
                $"Halley could not reach Redis with {RedisEngineOptions.SectionName}:Configuration '{Redacted(options.Configuration)}': {ex.Message}", ex);
        }
    }

    /// <summary>The connection string without its password, for an error message.</summary>
    private static string Redacted(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration).ToString(includePassword: false);
        }
        catch (ArgumentException)
        {
            return "(unreadable)";
        }
    }
}
