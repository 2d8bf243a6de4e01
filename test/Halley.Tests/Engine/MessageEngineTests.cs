using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

public class MessageEngineTests
{
    private sealed class Recorder : ISubscriber
    {
        public List<EncodedMessage> Received { get; } = [];

        public void Deliver(EncodedMessage message) => Received.Add(message);

        public sealed class Listener : IEngineListener
        {
            public void OnMessage(EncodedMessage message)
            {
            }
        }
    }

    [Fact]
    public async Task Publish_SubscriberOfPatternAndName_GetsMessageExactlyOnce()
    {
        using var h = new Harness();
        var sub = new Recorder();
        h.Engine.Subscribe("/a/**", sub);
        h.Engine.Subscribe("/a/b", sub);
        h.Engine.Subscribe("/a/*", sub);

        var sent = await h.PublishAsync("/a/b", """{"x":1}""");

        Assert.Same(sent, Assert.Single(sub.Received));
    }

    [Fact]
    public async Task Publish_SingleStarSubscriber_DoesNotGetGrandchild()
    {
        using var h = new Harness();
        var star = new Recorder();
        var deep = new Recorder();
        h.Engine.Subscribe("/a/*", star);
        h.Engine.Subscribe("/a/**", deep);

        await h.PublishAsync("/a/b/c");

        Assert.Empty(star.Received);
        Assert.Single(deep.Received);
    }

    [Fact]
    public async Task Publish_OtherChannels_AreNotDelivered()
    {
        using var h = new Harness();
        var sub = new Recorder();
        h.Engine.Subscribe("/a/b", sub);
        h.Engine.Subscribe("/x/**", sub);

        await h.PublishAsync("/a/bc");
        await h.PublishAsync("/a");
        await h.PublishAsync("/x");

        Assert.Empty(sub.Received);
    }

    [Fact]
    public async Task Publish_SameEncodedInstance_ReachesEverySubscriber()
    {
        using var h = new Harness();
        var subs = Enumerable.Range(0, 6).Select(_ => new Recorder()).ToArray();
        h.Engine.Subscribe("/a/b", subs[0]);
        h.Engine.Subscribe("/a/b", subs[1]);
        h.Engine.Subscribe("/a/*", subs[2]);
        h.Engine.Subscribe("/a/**", subs[3]);
        h.Engine.Subscribe("/**", subs[4]);
        h.Engine.Subscribe("/a/b", subs[5]);
        h.Engine.Subscribe("/**", subs[5]);

        var sent = await h.PublishAsync("/a/b", """{"big":"payload"}""");

        foreach (var sub in subs)
        {
            Assert.Same(sent, Assert.Single(sub.Received));
        }
        Assert.Equal("""{"channel":"/a/b","data":{"big":"payload"}}""", Wire.Text(sent.Json));
        Assert.Equal("/a/b", sent.Channel);
    }

    [Fact]
    public async Task Publish_WithId_EncodesId()
    {
        using var h = new Harness();

        var sent = await h.Engine.PublishAsync("/a", "[1]"u8.ToArray(), "\"m-7\""u8.ToArray(), CancellationToken.None);

        Assert.Equal("""{"channel":"/a","data":[1],"id":"m-7"}""", Wire.Text(sent.Json));
    }

    [Fact]
    public async Task Unsubscribe_StopsDelivery_AndDropsKey()
    {
        using var h = new Harness();
        var sub = new Recorder();
        h.Engine.Subscribe("/a/b", sub);
        Assert.Equal(1, h.Engine.SubscribedKeyCount);

        Assert.True(h.Engine.Unsubscribe("/a/b", sub));
        await h.PublishAsync("/a/b");

        Assert.Empty(sub.Received);
        Assert.Equal(0, h.Engine.SubscribedKeyCount);
    }

    [Theory]
    [InlineData("/ticker/**", "/ticker/a/b", true)]
    [InlineData("/ticker/*", "/ticker/a", true)]
    [InlineData("/ticker/*", "/ticker/a/b", false)]
    [InlineData("/ticker", "/ticker", true)]
    [InlineData("/ticker", "/tickers", false)]
    [InlineData("/ticker/**", "/chat", false)]
    public async Task Publish_SetsLazyFlag_FromLazyChannels(string lazyPattern, string channel, bool lazy)
    {
        using var h = new Harness(new HalleyOptions { LazyChannels = [lazyPattern] });
        var sub = new Recorder();
        h.Engine.Subscribe("/**", sub);

        var sent = await h.PublishAsync(channel);

        Assert.Equal(lazy, sent.IsLazy);
        Assert.Equal(lazy, Assert.Single(sub.Received).IsLazy);
    }

    [Fact]
    public void InMemoryEngine_SecondListener_Throws()
    {
        using var h = new Harness(); // its hub is the engine's listener

        Assert.Throws<InvalidOperationException>(() => h.InMemoryEngine.Start(new Recorder.Listener()));
    }
}

/// <summary>The in-memory engine's own promises, beyond the contract's specification suite.</summary>
public class InMemoryMessageEngineTests
{
    [Fact]
    public async Task AListenerThatThrows_DoesNotStopLaterMessages()
    {
        var options = new HalleyOptions();
        options.History.Channels["/h/**"] = new HistoryRule();
        var engine = new InMemoryMessageEngine(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        var listener = new ThrowingOnce();
        engine.Start(listener);
        await engine.DeclareInterestAsync("/h/**", CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => PublishAsync(engine, "/h/a").AsTask());
        var second = await PublishAsync(engine, "/h/a");

        Assert.Equal(second, engine.Cursor);
        Assert.Equal(["/h/a"], listener.Handed);
    }

    private static ValueTask<StreamPosition?> PublishAsync(InMemoryMessageEngine engine, string channel) =>
        engine.PublishAsync(EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, "1"u8, default)), CancellationToken.None);

    private sealed class ThrowingOnce : IEngineListener
    {
        private bool _thrown;

        public List<string> Handed { get; } = [];

        public void OnMessage(EncodedMessage message)
        {
            if (!_thrown)
            {
                _thrown = true;
                throw new InvalidOperationException("A listener that breaks its promise.");
            }
            Handed.Add(message.Channel);
        }
    }
}
