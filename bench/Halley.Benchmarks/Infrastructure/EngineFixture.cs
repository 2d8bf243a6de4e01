using System.Diagnostics.Metrics;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Halley.Benchmarks.Infrastructure;

/// <summary>
/// The real hub and session registry over the in-memory engine, wired by hand the way the unit tests'
/// Harness does it (no host, no transports): what a publish costs inside one node.
/// </summary>
internal sealed class EngineFixture : IDisposable
{
    private readonly ServiceProvider _provider;

    public EngineFixture(HalleyOptions options)
    {
        Options = options;
        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new HalleyMetrics(_provider.GetRequiredService<IMeterFactory>());
        InMemoryEngine = new InMemoryMessageEngine(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        Engine = new MessageHub(InMemoryEngine, Metrics, Microsoft.Extensions.Options.Options.Create(options));
        Registry = new SessionRegistry(
            Microsoft.Extensions.Options.Options.Create(options), Engine, Metrics, TimeProvider.System, NullLogger<SessionRegistry>.Instance);
    }

    public HalleyOptions Options { get; }
    public HalleyMetrics Metrics { get; }
    public MessageHub Engine { get; }
    public InMemoryMessageEngine InMemoryEngine { get; }
    public SessionRegistry Registry { get; }

    /// <summary>Creates a session through the registry and subscribes it the way the processor does: session first, then engine.</summary>
    public BayeuxSession Subscribe(string channelOrPattern, BayeuxSession? session = null)
    {
        session ??= Registry.Create(browserId: null, owner: null);
        session.AddSubscription(channelOrPattern, int.MaxValue, out _);
        Subscribe(channelOrPattern, (ISubscriber)session);
        return session;
    }

    /// <summary>Subscribes in the hub; the in-memory engine completes it before returning, which this checks.</summary>
    public void Subscribe(string channelOrPattern, ISubscriber subscriber)
    {
        var subscribe = Engine.SubscribeAsync(channelOrPattern, subscriber);
        if (!subscribe.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The in-memory engine completes a subscribe before it returns.");
        }
    }

    public void Dispose()
    {
        Metrics.Dispose();
        _provider.Dispose();
    }
}

/// <summary>
/// Stands in for a WebSocket or SSE connection bound to a session: it is told messages are waiting and drains
/// them later, off the publisher's thread. Here the wake-up is a no-op and the benchmark drains explicitly.
/// </summary>
internal sealed class NullPushTarget : IPushTarget
{
    public static readonly NullPushTarget Instance = new();

    public void MessagesAvailable()
    {
    }

    public void Released()
    {
    }
}
