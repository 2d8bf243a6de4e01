using Halley.Engine;
using Halley.Redis;
using Halley.Testing;
using StackExchange.Redis;

namespace Halley.Tests.Engine.Specification;

/// <summary>One redis-server for the Redis engine's specification tests, and one connection to it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Connection = await ConnectionMultiplexer.ConnectAsync(Server.Configuration);
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// The engine specification, run against the Redis engine on a real redis-server. Each engine gets a key prefix of
/// its own, so tests do not see each other's keys, and a second engine made by a test has "lost" the first one's
/// history (a prefix Redis has never seen is a Redis without the sequence: a new epoch).
/// </summary>
public sealed class RedisMessageEngineSpecification(RedisServerFixture redis) : MessageEngineSpecification, IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private readonly List<RedisMessageEngine> _engines = [];

    protected override IMessageEngine CreateEngine(HalleyOptions options)
    {
        var prefix = $"spec:{Guid.NewGuid():N}:";
        var engine = new RedisMessageEngine(
            redis.Connection,
            Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Options.Options.Create(new RedisEngineOptions { Prefix = prefix }),
            Time);
        _engines.Add(engine);
        return engine;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }
    }
}
