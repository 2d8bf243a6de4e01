using System.Net;
using System.Net.Sockets;
using Halley.Engine;
using Halley.Redis;
using Halley.Tests.Engine.Specification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Halley.Tests.Engine;

/// <summary><c>AddHalley().UseRedis(…)</c>: the Redis engine through the builder's extension point, against a real redis-server.</summary>
public sealed class RedisEngineRegistrationTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task UseRedis_RunsTheNodeOnTheRedisEngine_AndPublishesGetPositionsFromRedis()
    {
        await using var provider = Services()
            .AddHalley(o => o.History.Channels["/a/**"] = new HistoryRule())
            .UseRedis(o =>
            {
                o.Configuration = redis.Server.Configuration;
                o.Prefix = $"reg:{Guid.NewGuid():N}:";
            })
            .Services.BuildServiceProvider();
        foreach (var service in provider.GetServices<IHostedService>().Where(s => s.GetType().Assembly == typeof(RedisMessageEngine).Assembly))
        {
            await service.StartAsync(default);
        }

        var engine = Assert.IsType<RedisMessageEngine>(provider.GetRequiredService<IMessageEngine>());
        Assert.Same(engine, provider.GetRequiredService<MessageHub>().Engine);
        var position = await provider.GetRequiredService<IHalleyPublisher>().PublishAsync("/a/b", new { x = 1 });
        Assert.Equal(new StreamPosition(engine.Epoch, 1), position);
    }

    [Fact]
    public async Task UseRedis_AnUnreachableRedis_FailsTheStart_NamingTheConfigurationWithoutItsPassword()
    {
        var port = ClosedPort();
        await using var provider = Services()
            .AddHalley()
            .UseRedis($"127.0.0.1:{port},password=s3cret,connectTimeout=500")
            .Services.BuildServiceProvider();
        // What a host does at start: resolve its hosted services (the node's sweeper needs the engine) and start them.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            foreach (var service in provider.GetServices<IHostedService>())
            {
                await service.StartAsync(default);
            }
        });
        Assert.Contains("Halley:Redis:Configuration", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    private static IServiceCollection Services() =>
        new ServiceCollection().AddLogging().AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());

    /// <summary>A loopback port nothing listens on (taken and let go of at once).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
