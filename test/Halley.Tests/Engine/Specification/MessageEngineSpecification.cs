using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.Tests.Engine.Specification;

/// <summary>
/// The engine contract (<see cref="IMessageEngine"/>), as tests every implementation runs: derive, say how to make
/// the engine, and the whole suite runs against it (the pattern of SignalR's ScaleoutHubLifetimeManagerTests). The
/// in-memory engine runs it in <see cref="InMemoryMessageEngineSpecification"/>, the Redis engine (against a real
/// redis-server) in <see cref="RedisMessageEngineSpecification"/>.
/// </summary>
/// <remarks>
/// Channels under <c>/h/**</c> keep history (<see cref="Size"/> messages, <see cref="Ttl"/>); <c>/n/**</c> keeps none.
/// Waits are on events with timeouts (a cluster engine delivers asynchronously), never sleeps.
/// </remarks>
public abstract class MessageEngineSpecification
{
    /// <summary>Messages each <c>/h/**</c> channel keeps.</summary>
    protected const int Size = 8;

    /// <summary>How long a <c>/h/**</c> message is kept.</summary>
    protected static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>The clock the engine's retention runs on.</summary>
    private protected ManualTimeProvider Time { get; } = new();

    /// <summary>Makes a new engine with <paramref name="options"/>'s history rules, on <see cref="Time"/>; a new one has lost every history of the one before.</summary>
    protected abstract IMessageEngine CreateEngine(HalleyOptions options);

    /// <summary>Whether the engine hands a node only the channels it declared interest in (a cluster engine must; the contract lets a single node's engine hand more).</summary>
    protected virtual bool HandsOnlyDeclaredInterest => true;

    [Fact]
    public async Task Publish_GivesAPosition_OnlyOnChannelsWithHistory_IncreasingAcrossChannels()
    {
        var (engine, node) = Start();
        var a = await PublishAsync(engine, "/h/a");
        var b = await PublishAsync(engine, "/h/b");
        var none = await PublishAsync(engine, "/n/x");

        Assert.NotNull(a.Position);
        Assert.NotNull(b.Position);
        Assert.Null(none.Position);
        Assert.Equal(engine.Epoch, a.Position.Value.Epoch);
        Assert.True(b.Position.Value.Offset > a.Position.Value.Offset);
        // The position is in the encoded event the subscribers receive, not only on the object.
        Assert.Contains($"\"position\":\"{b.Position}\"", Encoding.UTF8.GetString(b.Json.Span), StringComparison.Ordinal);
        await NodeRecorder.UntilCursorAsync(engine, b.Position.Value);
    }

    [Fact]
    public async Task Interest_Declared_IsHanded_Once_AndAfterWithdrawal_TheCursorStillMovesOn()
    {
        var (engine, node) = Start();
        await engine.DeclareInterestAsync("/h/*", default);
        await engine.DeclareInterestAsync("/n/x", default);
        var wanted = await PublishAsync(engine, "/h/a");
        var plain = await PublishAsync(engine, "/n/x");
        var deeper = await PublishAsync(engine, "/h/a/b"); // /h/* is one level
        await NodeRecorder.UntilCursorAsync(engine, deeper.Position!.Value);

        await node.UntilAsync(m => node.Same(m, plain));
        Assert.Equal(1, node.Count(wanted));
        Assert.Equal(1, node.Count(plain));
        if (HandsOnlyDeclaredInterest)
        {
            Assert.Equal(0, node.Count(deeper));
        }

        await engine.WithdrawInterestAsync("/h/*", default);
        var after = await PublishAsync(engine, "/h/a");
        await NodeRecorder.UntilCursorAsync(engine, after.Position!.Value);
        if (HandsOnlyDeclaredInterest)
        {
            Assert.Equal(0, node.Count(after));
        }
    }

    [Fact]
    public async Task ConcurrentPublishers_EachChannelInPositionOrder_AndTheNodeReceivesPositionsInOrder()
    {
        var (engine, node) = Start();
        await engine.DeclareInterestAsync("/h/**", default);
        const int Threads = 4, PerThread = 400;
        var channels = Enumerable.Range(0, 10).Select(i => $"/h/c{i}").ToArray();
        var published = new ConcurrentBag<EncodedMessage>();
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                published.Add(await PublishAsync(engine, channels[(t + i) % channels.Length]));
            }
        })));
        var top = published.Max(m => m.Position!.Value.Offset);
        await NodeRecorder.UntilCursorAsync(engine, new StreamPosition(engine.Epoch, top));

        var handed = node.Snapshot();
        Assert.Equal(Threads * PerThread, handed.Count);
        Assert.Equal(handed.Count, handed.Select(m => m.Position!.Value.Offset).Distinct().Count());
        var offsets = handed.Select(m => m.Position!.Value.Offset).ToList();
        Assert.Equal(offsets.Order(), offsets); // node order is position order, so every channel's order is too
        // And the history of each channel holds its newest Size messages in that order.
        foreach (var channel in channels)
        {
            var read = await engine.ReadHistoryAsync(new HistoryQuery([channel], null, 100), default);
            var expected = handed.Where(m => m.Channel == channel).TakeLast(Size).ToList();
            AssertSameMessages(expected, read.Messages);
        }
    }

    [Fact]
    public async Task History_AfterAPosition_OverNamesAndPatterns_IsBoundedAndPaged()
    {
        var (engine, _) = Start();
        var since = (await PublishAsync(engine, "/h/a")).Position;
        var a2 = await PublishAsync(engine, "/h/a");
        var deep = await PublishAsync(engine, "/h/a/b");
        var b1 = await PublishAsync(engine, "/h/b");
        await PublishAsync(engine, "/n/x");

        AssertSameMessages([a2, b1], (await engine.ReadHistoryAsync(new HistoryQuery(["/h/*"], since, 10), default)).Messages);
        AssertSameMessages([a2, deep, b1], (await engine.ReadHistoryAsync(new HistoryQuery(["/h/**"], since, 10), default)).Messages);
        AssertSameMessages([a2], (await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], since, 10), default)).Messages);

        var page = await engine.ReadHistoryAsync(new HistoryQuery(["/h/**"], since, 2), default);
        AssertSameMessages([a2, deep], page.Messages);
        Assert.True(page.Truncated);
        Assert.Equal(deep.Position, page.Through);
        var rest = await engine.ReadHistoryAsync(new HistoryQuery(["/h/**"], page.Through, 2), default);
        AssertSameMessages([b1], rest.Messages);
        Assert.False(rest.Truncated);
        Assert.True(rest.Complete);

        var bounded = await engine.ReadHistoryAsync(new HistoryQuery(["/h/**"], since, 10) { Through = deep.Position }, default);
        AssertSameMessages([a2, deep], bounded.Messages);

        var withoutHistory = await engine.ReadHistoryAsync(new HistoryQuery(["/n/x"], since, 10), default);
        Assert.Empty(withoutHistory.Messages);
        Assert.False(withoutHistory.Complete); // a channel with no history cannot say nothing was lost
    }

    [Fact]
    public async Task Retention_ByCount_LetsGoOfTheOldest_AndAReadFromBeforeIsNotComplete()
    {
        var (engine, _) = Start();
        var since = (await PublishAsync(engine, "/h/a")).Position;
        var all = new List<EncodedMessage>();
        for (var i = 0; i < Size + 2; i++)
        {
            all.Add(await PublishAsync(engine, "/h/a"));
        }

        var read = await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], since, 100), default);
        AssertSameMessages(all.TakeLast(Size), read.Messages);
        Assert.False(read.Complete);
        var recent = await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], all[all.Count - Size - 1].Position, 100), default);
        Assert.True(recent.Complete);
        AssertSameMessages(all.TakeLast(Size), recent.Messages);
    }

    [Fact]
    public async Task Retention_ByAge_LetsGoAfterTheTtl()
    {
        var (engine, _) = Start();
        var since = (await PublishAsync(engine, "/h/a")).Position;
        await PublishAsync(engine, "/h/a");
        Time.Advance(Ttl);
        engine.Sweep();
        var fresh = await PublishAsync(engine, "/h/a");

        var read = await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], since, 100), default);
        AssertSameMessages([fresh], read.Messages);
        Assert.False(read.Complete);
    }

    [Fact]
    public async Task Epoch_APositionOfAnotherEpoch_ReadsNothing_AndALostHistoryHasANewEpoch()
    {
        var (engine, _) = Start();
        var before = (await PublishAsync(engine, "/h/a")).Position!.Value;
        await PublishAsync(engine, "/h/a");
        var (restarted, _) = Start();

        Assert.NotEqual(engine.Epoch, restarted.Epoch);
        await PublishAsync(restarted, "/h/a");
        var read = await restarted.ReadHistoryAsync(new HistoryQuery(["/h/a"], before, 100), default);
        Assert.Empty(read.Messages);
        Assert.False(read.Complete);
    }

    [Fact]
    public async Task Replays_AreBounded_AllOrNothing()
    {
        var (engine, _) = Start();
        var since = (await PublishAsync(engine, "/h/a")).Position;
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync(engine, "/h/a");
        }

        var tooMany = await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], since, 4) { AllOrNothing = true }, default);
        Assert.Empty(tooMany.Messages);
        Assert.True(tooMany.Truncated);
        var fits = await engine.ReadHistoryAsync(new HistoryQuery(["/h/a"], since, 5) { AllOrNothing = true }, default);
        Assert.Equal(5, fits.Messages.Count);
        Assert.True(fits.Complete);
    }

    [Fact]
    public async Task Recovery_WithPublishersRacingTheResubscribe_ReplaysThenGoesLive_ExactlyOnce_InOrder()
    {
        // Room for everything the racers publish before the subscribe: the test is about the seam, not retention.
        var options = Options();
        options.History.Channels["/h/**"] = new HistoryRule { Size = 1_000_000, Ttl = Ttl };
        options.History.MaxRecoveredMessages = 1_000_000;
        var engine = CreateEngine(options);
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new HalleyMetrics(provider.GetRequiredService<IMeterFactory>());
        var hub = new MessageHub(engine, metrics, Microsoft.Extensions.Options.Options.Create(options));
        var channels = new[] { "/h/x", "/h/y/z", "/h/w" };
        var since = (await hub.PublishAsync("/h/x", "0"u8.ToArray(), default, default)).Position!.Value;
        var gap = new List<EncodedMessage>();
        for (var i = 0; i < 3; i++)
        {
            gap.Add(await hub.PublishAsync(channels[i], "1"u8.ToArray(), default, default));
        }

        using var stop = new CancellationTokenSource();
        using var racing = new CountdownEvent(2);
        var raced = new ConcurrentQueue<EncodedMessage>[2];
        var racers = Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
        {
            raced[t] = new ConcurrentQueue<EncodedMessage>();
            for (var i = 0; !stop.IsCancellationRequested || i < 50; i++)
            {
                raced[t].Enqueue(await hub.PublishAsync(channels[(t + i) % channels.Length], "2"u8.ToArray(), default, default));
                if (i == 0)
                {
                    racing.Signal();
                }
                // An in-memory publish completes synchronously: without a yield the two racers hold both cores' pool
                // threads, the subscribe's continuation waits for the pool to grow, and a million messages outrun any
                // history before it reads (seen once in a loaded full run).
                await Task.Yield();
            }
        })).ToArray();
        Assert.True(racing.Wait(Wait), "The racing publishers did not start.");
        var client = new RecordingSubscriber();
        var recovery = await hub.SubscribeAsync(["/h/**"], client, since);
        var afterSubscribe = raced.Sum(q => q.Count);
        await stop.CancelAsync();
        await Task.WhenAll(racers).WaitAsync(Wait);

        Assert.True(recovery.Recovered, $"Not recovered from {since}: took effect at {recovery.Position}, {afterSubscribe} messages raced before the subscribe returned.");
        Assert.True(raced.Sum(q => q.Count) > afterSubscribe, "No publish raced the subscribe's end.");
        var all = gap.Concat(raced.SelectMany(q => q)).OrderBy(m => m.Position!.Value.Offset).ToList();
        await Until(() => client.Count >= all.Count, "the client received every message");
        AssertSameMessages(all, client.From(0));
    }

    /// <summary>Rules: <c>/h/**</c> keeps <see cref="Size"/> messages for <see cref="Ttl"/>; nothing else keeps any.</summary>
    [Fact]
    public async Task Idempotency_APublishRetriedWithItsKey_IsNotHandedAgain_AndAnswersTheFirstPosition()
    {
        var (engine, node) = Start();
        await engine.DeclareInterestAsync("/h/**", default);
        await engine.DeclareInterestAsync("/n/**", default);
        var key = Guid.NewGuid().ToString();
        var first = await PublishAsync(engine, "/h/a", key);
        var retry = await PublishAsync(engine, "/h/a", key);
        var plain = await PublishAsync(engine, "/n/a", key + "-n");
        var plainRetry = await PublishAsync(engine, "/n/a", key + "-n");
        var other = await PublishAsync(engine, "/h/a", key + "-other");
        var unkeyed = await PublishAsync(engine, "/h/a");
        await node.UntilAsync(m => node.Same(m, unkeyed));

        Assert.False(first.IsDuplicate);
        Assert.True(retry.IsDuplicate);
        Assert.Equal(first.Position, retry.Position);
        Assert.True(plainRetry.IsDuplicate);
        Assert.Null(plainRetry.Position);
        Assert.False(other.IsDuplicate);
        Assert.True(other.Position!.Value.Offset > first.Position!.Value.Offset);
        // Handed once each, in order: the retries were never published.
        Assert.Equal(new[] { first, plain, other, unkeyed }.Select(m => Encoding.UTF8.GetString(m.Json.Span)), node.Snapshot().Select(m => Encoding.UTF8.GetString(m.Json.Span)));
    }

    protected static HalleyOptions Options() => new()
    {
        History = new HistoryOptions { Channels = new(StringComparer.Ordinal) { ["/h/**"] = new HistoryRule { Size = Size, Ttl = Ttl } } },
        MaxQueue = 1_000_000,
    };

    private (IMessageEngine Engine, NodeRecorder Node) Start()
    {
        var engine = CreateEngine(Options());
        var node = new NodeRecorder();
        engine.Start(node);
        return (engine, node);
    }

    private static async Task<EncodedMessage> PublishAsync(IMessageEngine engine, string channel, string? idempotencyKey = null)
    {
        var message = EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, "{}"u8, default));
        message.IdempotencyKey = idempotencyKey;
        var position = await engine.PublishAsync(message, default);
        Assert.Equal(position, message.Position);
        return message;
    }

    /// <summary>
    /// The same messages in the same order, compared by their encoded bytes (position included): a cluster engine
    /// hands on and reads back messages rebuilt from what it stored, not the instances that were published.
    /// </summary>
    private static void AssertSameMessages(IEnumerable<EncodedMessage> expected, IEnumerable<EncodedMessage> actual) =>
        Assert.Equal(expected.Select(m => Encoding.UTF8.GetString(m.Json.Span)), actual.Select(m => Encoding.UTF8.GetString(m.Json.Span)));

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Yield();
        }
    }

    /// <summary>The node's listener: records what the engine hands it, in order.</summary>
    private sealed class NodeRecorder : IEngineListener
    {
        private readonly Lock _gate = new();
        private readonly List<EncodedMessage> _handed = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnMessage(EncodedMessage message)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                _handed.Add(message);
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }

        public List<EncodedMessage> Snapshot()
        {
            lock (_gate)
            {
                return [.. _handed];
            }
        }

        public int Count(EncodedMessage message) => Snapshot().Count(m => Same(m, message));

        /// <summary>The same message: the instance published, or (from a cluster engine) one rebuilt with the same bytes.</summary>
        public bool Same(EncodedMessage handed, EncodedMessage message) => ReferenceEquals(handed, message) || handed.Json.Span.SequenceEqual(message.Json.Span);

        public async Task UntilAsync(Func<EncodedMessage, bool> handed)
        {
            var deadline = DateTime.UtcNow + Wait;
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    if (_handed.Any(handed))
                    {
                        return;
                    }
                    changed = _changed.Task;
                }
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, "Timed out waiting for a message to be handed to the node.");
                await changed.WaitAsync(left).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        /// <summary>Waits until the engine's cursor is at or past <paramref name="position"/>.</summary>
        public static async Task UntilCursorAsync(IMessageEngine engine, StreamPosition position) =>
            await Until(() => engine.Cursor.Epoch == position.Epoch && engine.Cursor.Offset >= position.Offset, $"the cursor to reach {position}");
    }
}

/// <summary>The engine specification, run against the in-memory engine.</summary>
public sealed class InMemoryMessageEngineSpecification : MessageEngineSpecification
{
    protected override IMessageEngine CreateEngine(HalleyOptions options) =>
        new InMemoryMessageEngine(Microsoft.Extensions.Options.Options.Create(options), Time);
}
