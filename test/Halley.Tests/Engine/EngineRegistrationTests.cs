using Halley.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Engine;

/// <summary>The builder's extension point for engines: <c>AddHalley().UseEngine&lt;T&gt;()</c>.</summary>
public class EngineRegistrationTests
{
    [Fact]
    public async Task AddHalley_RunsOnTheInMemoryEngine_ByDefault()
    {
        await using var provider = Services().AddHalley().Services.BuildServiceProvider();

        Assert.IsType<InMemoryMessageEngine>(provider.GetRequiredService<IMessageEngine>());
        Assert.Same(provider.GetRequiredService<IMessageEngine>(), provider.GetRequiredService<MessageHub>().Engine);
    }

    [Fact]
    public async Task UseEngine_ReplacesTheEngine_AndPublishesGoThroughIt()
    {
        await using var provider = Services().AddHalley().UseEngine<CountingEngine>().Services.BuildServiceProvider();
        var engine = Assert.IsType<CountingEngine>(provider.GetRequiredService<IMessageEngine>());

        await provider.GetRequiredService<IHalleyPublisher>().PublishAsync("/a/b", new { x = 1 });

        Assert.Same(engine, provider.GetRequiredService<MessageHub>().Engine);
        Assert.Equal(["/a/b"], engine.Published);
    }

    /// <summary>What a host provides before AddHalley: logging and configuration (empty: the defaults).</summary>
    private static IServiceCollection Services() =>
        new ServiceCollection().AddLogging().AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());

    /// <summary>An engine of another kind: the in-memory one, counting what is published through it.</summary>
    private sealed class CountingEngine(IOptions<HalleyOptions> options) : IMessageEngine
    {
        private readonly InMemoryMessageEngine _inner = new(options, TimeProvider.System);

        public List<string> Published { get; } = [];

        public string Epoch => _inner.Epoch;
        public bool HasHistory => _inner.HasHistory;
        public StreamPosition Cursor => _inner.Cursor;

        public void Start(IEngineListener listener) => _inner.Start(listener);

        public ValueTask<StreamPosition?> PublishAsync(EncodedMessage message, CancellationToken cancellationToken)
        {
            Published.Add(message.Channel);
            return _inner.PublishAsync(message, cancellationToken);
        }

        public ValueTask DeclareInterestAsync(string channelOrPattern, CancellationToken cancellationToken) => _inner.DeclareInterestAsync(channelOrPattern, cancellationToken);
        public ValueTask WithdrawInterestAsync(string channelOrPattern, CancellationToken cancellationToken) => _inner.WithdrawInterestAsync(channelOrPattern, cancellationToken);
        public ValueTask<HistoryResult> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken) => _inner.ReadHistoryAsync(query, cancellationToken);
        public void Sweep() => _inner.Sweep();
    }
}
