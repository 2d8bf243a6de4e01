using System.Collections.Concurrent;
using Halley.Engine;
using Halley.Redis;
using Halley.Tests.Engine.Specification;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// What the specification cannot say with one node: several <see cref="RedisMessageEngine"/>s (nodes) on one real
/// redis-server, sharing a key prefix. The cursor's promise while another node publishes, one copy per node whatever
/// its interests, a stream Redis expired, and a Redis that lost its data.
/// </summary>
public sealed class RedisMessageEngineTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly List<RedisMessageEngine> _engines = [];
    private readonly string _prefix = $"t:{Guid.NewGuid():N}:";
    private readonly ManualTimeProvider _time = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }
    }

    [Fact]
    public async Task DeclarationsRacingPublishesOnAnotherNode_HandEveryMessageAfterTheirCursor_InOrder_Once()
    {
        var (a, nodeA) = Node();
        var (b, _) = Node();
        using var stop = new CancellationTokenSource();
        var published = new ConcurrentQueue<EncodedMessage>();
        using var started = new SemaphoreSlim(0);
        var publishers = Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                published.Enqueue(await PublishAsync(b, $"/h/c{(t + i) % 4}"));
                if (i == 0)
                {
                    started.Release();
                }
            }
        })).ToArray();
        Assert.True(await started.WaitAsync(Wait) && await started.WaitAsync(Wait), "The publishers did not start.");

        // A first interest, then a wider one while messages of the first are on their way to node A: after each
        // declaration, nothing handed later may be at or before the cursor it left (read before the count, since the
        // cursor moves after the listener has had a message).
        await a.DeclareInterestAsync("/h/c0", default);
        var narrowCursor = a.Cursor;
        var narrowCount = nodeA.Snapshot().Count;
        var before = published.Count;
        await Until(() => published.Count > before + 50, "publishes after the first declaration");
        await a.DeclareInterestAsync("/h/**", default);
        var cursor = a.Cursor;
        var count = nodeA.Snapshot().Count;
        before = published.Count;
        await Until(() => published.Count > before + 50, "publishes after the second declaration");
        await stop.CancelAsync();
        await Task.WhenAll(publishers).WaitAsync(Wait);
        var top = published.Max(m => m.Position!.Value.Offset);
        await Until(() => a.Cursor.Offset >= top, $"node A's cursor to reach {top}");

        var expected = published.Where(m => m.Position!.Value.Offset > cursor.Offset).OrderBy(m => m.Position!.Value.Offset).Select(Text).ToList();
        var handed = nodeA.Snapshot().Where(m => m.Position!.Value.Offset > cursor.Offset).Select(Text).ToList();
        Assert.True(expected.Count > 50, $"Only {expected.Count} messages after the cursor {cursor}.");
        Assert.Equal(expected, handed);
        var offsets = nodeA.Snapshot().Select(m => m.Position!.Value.Offset).ToList();
        Assert.Equal(offsets.Order().Distinct(), offsets);
        Assert.All(offsets.Skip(narrowCount), o => Assert.True(o > narrowCursor.Offset, $"{o} handed after the cursor was at {narrowCursor}"));
        Assert.All(offsets.Skip(count), o => Assert.True(o > cursor.Offset, $"{o} handed after the cursor was at {cursor}"));
        var narrow = published.Where(m => m.Channel == "/h/c0" && m.Position!.Value.Offset > narrowCursor.Offset && m.Position.Value.Offset <= cursor.Offset)
            .OrderBy(m => m.Position!.Value.Offset).Select(Text).ToList();
        // Between the two cursors node A had /h/c0 and, from when the wider interest took effect in Redis, the others.
        Assert.Equal(narrow, nodeA.Snapshot().Where(m => m.Channel == "/h/c0" && m.Position!.Value.Offset > narrowCursor.Offset && m.Position.Value.Offset <= cursor.Offset).Select(Text).ToList());
    }

    [Fact]
    public async Task ANodeInterestedByNameAndByPatterns_IsHandedEachMessageOnce_AndAnUninterestedNodeNone()
    {
        var (a, nodeA) = Node();
        var (b, nodeB) = Node();
        await a.DeclareInterestAsync("/h/x/y", default);
        await a.DeclareInterestAsync("/h/x/*", default);
        await a.DeclareInterestAsync("/h/**", default);
        await a.DeclareInterestAsync("/n/**", default);
        var positioned = await PublishAsync(b, "/h/x/y");
        var plain = await PublishAsync(b, "/n/z");
        await Until(() => nodeA.Snapshot().Count >= 2 && b.Cursor.Offset >= positioned.Position!.Value.Offset, "node A to be handed both");

        // Once each, in the order Redis sent them.
        Assert.Equal([Text(positioned), Text(plain)], nodeA.Snapshot().Select(Text).ToList());
        Assert.Empty(nodeB.Snapshot());
    }

    [Fact]
    public async Task AStreamRedisExpired_MakesAReadFromBeforeItsNewestMessageNotComplete()
    {
        var options = Options();
        options.History.Channels["/short/**"] = new HistoryRule { Size = 10, Ttl = TimeSpan.FromMilliseconds(100) };
        var (engine, _) = Node(options);
        var since = (await PublishAsync(engine, "/h/a")).Position;
        await PublishAsync(engine, "/short/a");
        await Until(() => redis.Connection.GetDatabase().KeyExists(_prefix + "s:/short/a") is false, "Redis to expire the stream");

        var read = await engine.ReadHistoryAsync(new HistoryQuery(["/short/a"], since, 10), default);
        Assert.Empty(read.Messages);
        Assert.False(read.Complete);
        var pattern = await engine.ReadHistoryAsync(new HistoryQuery(["/short/**"], since, 10), default);
        Assert.False(pattern.Complete);
        var after = await engine.ReadHistoryAsync(new HistoryQuery(["/short/a"], engine.Cursor, 10), default);
        Assert.True(after.Complete);
    }

    [Fact]
    public async Task RedisLostItsData_ANodeThatOnlyListens_LearnsTheNewEpochFromItsSweep_AndIsHandedMessagesAgain()
    {
        var (a, nodeA) = Node();
        var (b, _) = Node();
        await a.DeclareInterestAsync("/h/**", default);
        var old = await PublishAsync(b, "/h/a");
        await Until(() => nodeA.Snapshot().Count == 1, "node A to be handed the first message");

        Assert.Equal("+OK", await redis.Server.CommandAsync("FLUSHALL"));
        var first = await PublishAsync(b, "/h/a");
        Assert.NotEqual(old.Position!.Value.Epoch, first.Position!.Value.Epoch);
        Assert.Equal(first.Position.Value.Epoch, b.Epoch);

        // Node A has published and read nothing: its sweep's probe tells it, and it declares its interest again.
        a.Sweep();
        await Until(() => a.Epoch == b.Epoch, "node A to learn the new epoch");
        var handed = Task.Run(async () =>
        {
            for (var i = 0; nodeA.Snapshot().Count < 2; i++)
            {
                Assert.True(i < 100, "Node A was not handed messages of the new epoch.");
                await PublishAsync(b, "/h/a");
                await Task.Delay(50);
            }
        });
        await handed.WaitAsync(Wait);
        Assert.Equal(b.Epoch, nodeA.Snapshot()[^1].Position!.Value.Epoch);
        Assert.Equal(b.Epoch, a.Cursor.Epoch);
    }

    [Fact]
    public async Task AMessageLostOnItsWayToANode_IsHandedFromHistory_BeforeTheOneAfterIt()
    {
        var (a, nodeA) = Node();
        var (b, _) = Node();
        await a.DeclareInterestAsync("/h/**", default);
        var first = await PublishAsync(b, "/h/a");
        await Until(() => nodeA.Snapshot().Count == 1, "node A to be handed the first message");

        // The second message is published while node A's subscription is gone: it counts in A's delivery numbers,
        // but never reaches it (as when Redis killed A's pub/sub connection and the publish fell in between).
        var db = redis.Connection.GetDatabase();
        await db.SetRemoveAsync(_prefix + "i:/h/**", a.NodeId);
        await db.HashIncrementAsync(_prefix + "meta", "n:" + a.NodeId);
        var lost = await PublishAsync(b, "/h/b");
        await db.SetAddAsync(_prefix + "i:/h/**", a.NodeId);
        var third = await PublishAsync(b, "/h/a");
        await Until(() => nodeA.Snapshot().Count >= 3, "node A to be handed the lost message and the next");

        Assert.Equal([Text(first), Text(lost), Text(third)], nodeA.Snapshot().Select(Text).ToList());
        Assert.Equal([first.Position, lost.Position, third.Position], nodeA.Snapshot().Select(m => m.Position).ToList());
        Assert.Equal(1, a.GapsFilled);
        Assert.Empty(nodeA.LostKeys());
    }

    [Fact]
    public async Task AGapHistoryCannotCover_IsHandedAsFarAsRetained_AndTheListenerIsToldWhichKeysLostMessages()
    {
        var options = Options();
        options.History.Channels["/h/**"] = new HistoryRule { Size = 2, Ttl = TimeSpan.FromMinutes(1) };
        var (a, nodeA) = Node(options);
        var (b, _) = Node(options);
        await a.DeclareInterestAsync("/h/**", default);
        await a.DeclareInterestAsync("/n/a", default);
        await PublishAsync(b, "/h/a");
        await Until(() => nodeA.Snapshot().Count == 1, "node A to be handed the first message");

        var db = redis.Connection.GetDatabase();
        await db.SetRemoveAsync(_prefix + "i:/h/**", a.NodeId);
        var missed = new List<EncodedMessage>();
        for (var i = 0; i < 4; i++)
        {
            await db.HashIncrementAsync(_prefix + "meta", "n:" + a.NodeId);
            missed.Add(await PublishAsync(b, "/h/a"));
        }
        await db.SetAddAsync(_prefix + "i:/h/**", a.NodeId);
        var next = await PublishAsync(b, "/h/a");
        await Until(() => nodeA.LostKeys().Count > 0, "node A's listener to be told of the loss");

        // The stream keeps 2: the last missed one and the next. The first three are gone, and both keys are told
        // (a channel without history has nothing to replay from).
        Assert.Equal(["/h/**", "/n/a"], nodeA.LostKeys().Order());
        Assert.Equal([Text(missed[^1]), Text(next)], nodeA.Snapshot().Skip(1).Select(Text).ToList());
    }

    [Fact]
    public async Task PubSubConnectionsKilledWhileAnotherNodePublishes_NodeAIsHandedEveryMessage_InOrder_Once()
    {
        var (a, nodeA) = Node();
        var (b, _) = Node();
        await a.DeclareInterestAsync("/h/**", default);
        var start = a.Cursor;
        using var stop = new CancellationTokenSource();
        var published = new ConcurrentQueue<EncodedMessage>();
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                published.Enqueue(await PublishAsync(b, $"/h/c{i % 3}"));
            }
        });

        // Redis closes every pub/sub connection (as its client-output-buffer-limit does); StackExchange.Redis
        // reconnects and subscribes again, and what was published in between must come from history. Killed again
        // until a gap really happened (a reconnect can be quicker than the next publish).
        for (var attempt = 0; a.GapsFilled == 0; attempt++)
        {
            Assert.True(attempt < 50, "No kill left node A a gap to fill.");
            var before = published.Count;
            await Until(() => published.Count > before + 20, "publishes before the kill");
            await redis.Server.CommandAsync("CLIENT", "KILL", "TYPE", "pubsub");
            before = published.Count;
            await Until(() => published.Count > before + 20, "publishes after the kill");
        }
        await stop.CancelAsync();
        await publisher.WaitAsync(Wait);
        var top = published.Max(m => m.Position!.Value.Offset);
        await Until(() => a.Cursor.Offset >= top, $"node A's cursor to reach {top}");

        var expected = published.Where(m => m.Position!.Value.Offset > start.Offset).OrderBy(m => m.Position!.Value.Offset).Select(Text).ToList();
        Assert.Equal(expected, nodeA.Snapshot().Select(Text).ToList());
        Assert.Empty(nodeA.LostKeys());
    }

    [Fact]
    public async Task RedisThatWentBack_StartsANewEpoch_SoNoPositionIsHandedOutTwice()
    {
        var (a, nodeA) = Node();
        await a.DeclareInterestAsync("/h/**", default);
        await PublishAsync(a, "/h/a");
        var second = await PublishAsync(a, "/h/a");
        await Until(() => a.Cursor.Offset >= second.Position!.Value.Offset, "node A's cursor to pass its own publishes");

        // As after a restart that lost the last second of an append-only file: the sequence is back by one.
        var db = redis.Connection.GetDatabase();
        await db.HashSetAsync(_prefix + "meta", "seq", second.Position!.Value.Offset - 1);
        var third = await PublishAsync(a, "/h/a");

        // A new epoch, counting on from the highest offset the node saw (the stream still holds it).
        Assert.NotEqual(second.Position.Value.Epoch, third.Position!.Value.Epoch);
        Assert.Equal(second.Position.Value.Offset + 1, third.Position.Value.Offset);
        await Until(() => nodeA.LostKeys().Count > 0, "node A's listener to be told of the loss");
        Assert.Equal(["/h/**"], nodeA.LostKeys());
    }

    private static HalleyOptions Options() => new()
    {
        History = new HistoryOptions { Channels = new(StringComparer.Ordinal) { ["/h/**"] = new HistoryRule { Size = 100_000, Ttl = TimeSpan.FromMinutes(1) } } },
    };

    private (RedisMessageEngine Engine, Recorder Node) Node(HalleyOptions? options = null)
    {
        var engine = new RedisMessageEngine(
            redis.Connection,
            Microsoft.Extensions.Options.Options.Create(options ?? Options()),
            Microsoft.Extensions.Options.Options.Create(new RedisEngineOptions { Prefix = _prefix }),
            _time);
        _engines.Add(engine);
        var node = new Recorder();
        engine.Start(node);
        return (engine, node);
    }

    private static async Task<EncodedMessage> PublishAsync(IMessageEngine engine, string channel)
    {
        var message = EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, "{}"u8, default));
        await engine.PublishAsync(message, default);
        return message;
    }

    private static string Text(EncodedMessage message) => System.Text.Encoding.UTF8.GetString(message.Json.Span);

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(5);
        }
    }

    private sealed class Recorder : IEngineListener
    {
        private readonly Lock _gate = new();
        private readonly List<EncodedMessage> _handed = [];
        private readonly List<string> _lost = [];

        public void OnMessage(EncodedMessage message)
        {
            lock (_gate)
            {
                _handed.Add(message);
            }
        }

        public void OnMessagesLost(IReadOnlyList<string> keys)
        {
            lock (_gate)
            {
                _lost.AddRange(keys);
            }
        }

        public List<string> LostKeys()
        {
            lock (_gate)
            {
                return [.. _lost];
            }
        }

        public List<EncodedMessage> Snapshot()
        {
            lock (_gate)
            {
                return [.. _handed];
            }
        }
    }
}
