using System.Text;
using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>Positions, retention rules and the bounds of recovery, on the real engine with a manual clock.</summary>
public class HistoryTests
{
    [Theory]
    [InlineData("abc:0", "abc", 0L)]
    [InlineData("k3j9x2ab:42", "k3j9x2ab", 42L)]
    public void Position_RoundTrips(string text, string epoch, long offset)
    {
        Assert.True(StreamPosition.TryParse(text, out var position));
        Assert.Equal(new StreamPosition(epoch, offset), position);
        Assert.Equal(text, position.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("42")]
    [InlineData(":42")]
    [InlineData("abc:")]
    [InlineData("abc:-1")]
    [InlineData("abc:+1")]
    [InlineData("ab c:1")]
    [InlineData("a:b:1")]
    [InlineData("abc:99999999999999999999")]
    [InlineData("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl:1")]
    public void Position_RejectsAnythingElse(string? text) => Assert.False(StreamPosition.TryParse(text, out _));

    [Fact]
    public void Rules_ChannelNameBeatsPatterns_AndTheLongestPatternWins()
    {
        var exact = new HistoryRule { Size = 1 };
        var one = new HistoryRule { Size = 2 };
        var deep = new HistoryRule { Size = 3 };
        var rules = new HistoryRules(new Dictionary<string, HistoryRule> { ["/a/b"] = exact, ["/a/*"] = one, ["/a/**"] = deep });
        Assert.Same(exact, rules.For("/a/b")?.Rule);
        Assert.Same(one, rules.For("/a/c")?.Rule);
        Assert.Same(deep, rules.For("/a/c/d")?.Rule);
        Assert.Null(rules.For("/b"));
    }

    [Theory]
    [InlineData("/s/**", "/s/*", true)]
    [InlineData("/s/**", "/s/x/**", true)]
    [InlineData("/s/**", "/s/x", true)]
    [InlineData("/s/*", "/s/*", true)]
    [InlineData("/s/*", "/s/**", false)]
    [InlineData("/s/*", "/s/x/y", false)]
    [InlineData("/s/x", "/s/*", false)]
    [InlineData("/s/**", "/t/*", false)]
    public void Rules_CoverAPatternOnlyWhenEveryChannelItMatchesKeepsHistory(string rule, string key, bool covered)
    {
        var rules = new HistoryRules(new Dictionary<string, HistoryRule> { [rule] = new() });
        Assert.Equal(covered, rules.Covers(key));
    }

    [Theory]
    [InlineData("/a/b", "/a/b")]
    [InlineData("/a/c", "/a/*")]
    [InlineData("/a/c/d", "/a/**")]
    [InlineData("/a/*", "/a/* /a/** /a/b")]
    [InlineData("/a/**", "/a/* /a/** /a/b")]
    [InlineData("/a/b/**", "/a/**")]
    [InlineData("/b/*", "")]
    public void Rules_ReachedByAKey_AreANamesOwnRule_OrEveryRuleAPatternOverlaps(string key, string reached)
    {
        var rules = new HistoryRules(new Dictionary<string, HistoryRule> { ["/a/b"] = new(), ["/a/*"] = new(), ["/a/**"] = new() });
        Assert.Equal(reached.Split(' ', StringSplitOptions.RemoveEmptyEntries), rules.Reaching(key).Select(r => r.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Positions_IncreaseAcrossChannels_AndOnlyChannelsWithARuleGetOne()
    {
        using var h = WithHistory(size: 10);
        var a = await PublishAsync(h, "/h/a");
        var b = await PublishAsync(h, "/h/b");
        var none = await PublishAsync(h, "/other");
        Assert.NotNull(a.Position);
        Assert.Equal(a.Position!.Value.Offset + 1, b.Position!.Value.Offset);
        Assert.Null(none.Position);
        Assert.Equal(h.Engine.Epoch, a.Position.Value.Epoch);
        Assert.Contains("\"ext\":{\"halley\":{\"position\":\"" + b.Position, Encoding.UTF8.GetString(b.Json.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recovery_AfterTheTtl_IsNotRecovered_AndReplaysNothing()
    {
        using var h = WithHistory(size: 10, ttl: TimeSpan.FromMinutes(1));
        var since = (await PublishAsync(h, "/h/a")).Position;
        await PublishAsync(h, "/h/a");
        h.Time.Advance(TimeSpan.FromSeconds(59));
        var fresh = new Recorder();
        Assert.True(h.Engine.Subscribe(["/h/a"], fresh, since).Recovered);
        Assert.Single(fresh.Received);

        h.Time.Advance(TimeSpan.FromSeconds(2));
        h.Engine.ExpireHistory();
        var late = new Recorder();
        Assert.False(h.Engine.Subscribe(["/h/a"], late, since).Recovered);
        Assert.Empty(late.Received);
        Assert.Equal((0, 0L), h.Engine.HistorySize); // the emptied history itself is let go of
    }

    [Fact]
    public async Task Recovery_OfMoreThanMaxRecoveredMessages_IsNotRecovered()
    {
        using var h = WithHistory(size: 100, maxRecovered: 3);
        var since = (await PublishAsync(h, "/h/a")).Position;
        for (var i = 0; i < 4; i++)
        {
            await PublishAsync(h, "/h/a");
        }
        var recorder = new Recorder();
        Assert.False(h.Engine.Subscribe(["/h/a"], recorder, since).Recovered);
        Assert.Empty(recorder.Received);
        var exactly = new Recorder();
        var three = (await PublishAsync(h, "/h/b")).Position;
        for (var i = 0; i < 3; i++)
        {
            await PublishAsync(h, "/h/b");
        }
        Assert.True(h.Engine.Subscribe(["/h/b"], exactly, three).Recovered);
        Assert.Equal(3, exactly.Received.Count);
    }

    [Fact]
    public async Task Recovery_OfAChannelWithoutHistory_IsNotRecovered()
    {
        using var h = WithHistory(size: 10);
        var since = (await PublishAsync(h, "/h/a")).Position;
        Assert.False(h.Engine.Subscribe(["/other"], new Recorder(), since).Recovered);
        Assert.False(h.Engine.Subscribe(["/**"], new Recorder(), since).Recovered);
        Assert.True(h.Engine.Subscribe(["/h/*"], new Recorder(), since).Recovered);
    }

    [Fact]
    public async Task Recovery_SkipsWhatTheSubscriberAlreadyReceivedThroughAHeldSubscription()
    {
        using var h = WithHistory(size: 10);
        var since = (await PublishAsync(h, "/h/a")).Position;
        await PublishAsync(h, "/h/a");
        await PublishAsync(h, "/h/b");
        var recorder = new HoldingRecorder(new HeldSubscription("/h/a", since!.Value.Offset));
        Assert.True(h.Engine.Subscribe(["/h/**"], recorder, since).Recovered);
        Assert.Equal(["/h/b"], recorder.Received.Select(m => m.Channel));
    }

    [Fact]
    public async Task Recovery_ReplaysWhatAHeldSubscriptionDidNotReceive_FromBeforeItTookEffect()
    {
        using var h = WithHistory(size: 10);
        var since = (await PublishAsync(h, "/h/a")).Position!.Value;
        var before = await PublishAsync(h, "/h/a");
        var heldFrom = h.Engine.Top.Offset;
        var other = await PublishAsync(h, "/h/b");
        // /h/a was received only after heldFrom, and has had no message since: what came before still fits in
        // order. /h/x/** reaches neither channel.
        var recorder = new HoldingRecorder(new HeldSubscription("/h/a", heldFrom), new HeldSubscription("/h/x/**", 0));
        Assert.True(h.Engine.Subscribe(["/h/**"], recorder, since).Recovered);
        Assert.Equal([before, other], recorder.Received);
        Assert.Equal([("/h/**", since.Offset)], recorder.TookEffect);

        // Of two held subscriptions that match a channel, the one that has it from earlier counts.
        var both = new HoldingRecorder(new HeldSubscription("/h/a", heldFrom), new HeldSubscription("/h/*", since.Offset));
        Assert.True(h.Engine.Subscribe(["/h/**"], both, since).Recovered);
        Assert.Empty(both.Received);
    }

    [Fact]
    public async Task Recovery_OfAHeldChannel_ThatHadAMessageAfterItTookEffect_IsNotRecovered_AndReplaysNothing()
    {
        using var h = WithHistory(size: 10);
        var since = (await PublishAsync(h, "/h/a")).Position!.Value;
        await PublishAsync(h, "/h/a");
        var heldFrom = h.Engine.Top.Offset;
        var newer = (await PublishAsync(h, "/h/a")).Position!.Value; // received through the held /h/a: the one before could only come after it
        var onB = await PublishAsync(h, "/h/b");
        var recorder = new HoldingRecorder(new HeldSubscription("/h/a", heldFrom));
        Assert.False(h.Engine.Subscribe(["/h/**"], recorder, since).Recovered);
        Assert.Empty(recorder.Received); // not even /h/b, which lost nothing: never part of a gap
        Assert.Equal([("/h/**", h.Engine.Top.Offset)], recorder.TookEffect);

        // Held from the position, the channel needs nothing replayed: its newer message does not matter.
        var fromTheStart = new HoldingRecorder(new HeldSubscription("/h/a", heldFrom), new HeldSubscription("/h/*", since.Offset));
        Assert.True(h.Engine.Subscribe(["/h/**"], fromTheStart, since).Recovered);
        Assert.Empty(fromTheStart.Received);

        // Nor when the channel has nothing between the position and where it was held: there is nothing to misplace.
        var heldLater = h.Engine.Top.Offset;
        await PublishAsync(h, "/h/a");
        var nothingBefore = new HoldingRecorder(new HeldSubscription("/h/a", heldLater));
        Assert.True(h.Engine.Subscribe(["/h/**"], nothingBefore, newer).Recovered);
        Assert.Equal([onB], nothingBefore.Received);
    }

    [Fact]
    public async Task Recovery_OfAHeldChannel_ThatLetGoOfAMessageItNeverReceived_IsNotRecovered()
    {
        using var h = WithHistory(size: 2);
        var since = (await PublishAsync(h, "/h/a")).Position;
        await PublishAsync(h, "/h/a");
        var heldFrom = h.Engine.Top.Offset;
        await PublishAsync(h, "/h/a");
        await PublishAsync(h, "/h/a"); // lets go of the message at heldFrom, which the subscriber never received
        var recorder = new HoldingRecorder(new HeldSubscription("/h/a", heldFrom));
        Assert.False(h.Engine.Subscribe(["/h/**"], recorder, since).Recovered);
        Assert.Empty(recorder.Received);

        var fromTheStart = new HoldingRecorder(new HeldSubscription("/h/a", since!.Value.Offset));
        Assert.True(h.Engine.Subscribe(["/h/**"], fromTheStart, since).Recovered);
    }

    [Fact]
    public async Task Recovery_TellsTheSubscriberFromWhereItsNewKeysHaveEveryMessage()
    {
        using var h = WithHistory(size: 10, maxRecovered: 2);
        var since = (await PublishAsync(h, "/h/a")).Position!.Value;
        await PublishAsync(h, "/h/a");
        var recovered = new HoldingRecorder();
        Assert.True(h.Engine.Subscribe(["/h/a", "/h/b"], recovered, since).Recovered);
        Assert.Equal([("/h/a /h/b", since.Offset)], recovered.TookEffect);

        await PublishAsync(h, "/h/a");
        await PublishAsync(h, "/h/a");
        foreach (var from in new StreamPosition?[] { since, null, new StreamPosition("elsewhere", 1) })
        {
            // Not recovered (more than the limit, no position, another epoch): only what follows, from the top.
            var fresh = new HoldingRecorder();
            Assert.False(h.Engine.Subscribe(["/h/a"], fresh, from).Recovered);
            Assert.Equal([("/h/a", h.Engine.Top.Offset)], fresh.TookEffect);
        }
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(2, false)]
    [InlineData(0, false)]
    [InlineData(-1, false)]
    public async Task Recovery_FitsInTheRoomLeftInTheSubscribersQueue_OrReplaysNothing(int room, bool recovered)
    {
        using var h = WithHistory(size: 10);
        var since = (await PublishAsync(h, "/h/a")).Position;
        for (var i = 0; i < 3; i++)
        {
            await PublishAsync(h, "/h/a");
        }
        var recorder = new HoldingRecorder { QueueRoom = room };
        Assert.Equal(recovered, h.Engine.Subscribe(["/h/a"], recorder, since).Recovered);
        Assert.Equal(recovered ? 3 : 0, recorder.Received.Count);
        // Nothing to replay fits in any room.
        Assert.True(h.Engine.Subscribe(["/h/b"], new HoldingRecorder { QueueRoom = room }, h.Engine.Top).Recovered);
    }

    [Fact]
    public async Task HistoryIsBoundedBySize()
    {
        using var h = WithHistory(size: 5);
        for (var i = 0; i < 50; i++)
        {
            await PublishAsync(h, "/h/" + (i % 2));
        }
        Assert.Equal((2, 10L), h.Engine.HistorySize);
    }

    [Fact]
    public async Task ReadHistory_PagesInOrder_AndAPositionFromAnotherEpochReadsNothing()
    {
        using var h = WithHistory(size: 10);
        var first = (await PublishAsync(h, "/h/a")).Position;
        for (var i = 0; i < 4; i++)
        {
            await PublishAsync(h, i % 2 == 0 ? "/h/b" : "/h/a");
        }
        var page = h.Engine.ReadHistory(["/h/*"], first, 3);
        Assert.Equal(3, page.Messages.Count);
        Assert.True(page.More);
        Assert.True(page.Complete);
        var rest = h.Engine.ReadHistory(["/h/*"], page.Next, 3);
        Assert.Single(rest.Messages);
        Assert.False(rest.More);
        Assert.Equal(h.Engine.Top, rest.Next);
        var offsets = page.Messages.Concat(rest.Messages).Select(m => m.Position!.Value.Offset).ToList();
        Assert.Equal(offsets.Order(), offsets);

        var other = h.Engine.ReadHistory(["/h/*"], new StreamPosition("elsewhere", 1), 10);
        Assert.Empty(other.Messages);
        Assert.False(other.Complete);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task ReadHistory_WithALimitBelowOne_IsRefused_WhetherOrNotThereAreMessages(int limit)
    {
        using var h = WithHistory(size: 10);
        var empty = Assert.Throws<ArgumentOutOfRangeException>(() => h.Engine.ReadHistory(["/h/*"], null, limit));
        Assert.Equal("limit", empty.ParamName);
        var since = (await PublishAsync(h, "/h/a")).Position;
        await PublishAsync(h, "/h/a");
        foreach (var from in new[] { null, since })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => h.Engine.ReadHistory(["/h/*"], from, limit));
            Assert.Equal("limit", error.ParamName);
        }
    }

    [Fact]
    public async Task ReadHistory_AfterAnotherRulesHistoryWasRemoved_IsComplete_UnlessItReachesThatRule()
    {
        var options = new HalleyOptions();
        options.History.Channels["/slow/**"] = new HistoryRule { Ttl = TimeSpan.FromHours(1) };
        options.History.Channels["/fast/**"] = new HistoryRule { Ttl = TimeSpan.FromSeconds(10) };
        using var h = new Harness(options);
        var since = (await PublishAsync(h, "/slow/x")).Position;
        await PublishAsync(h, "/fast/x");
        var missed = await PublishAsync(h, "/slow/x");
        h.Time.Advance(TimeSpan.FromSeconds(11));
        h.Engine.ExpireHistory();

        var slow = h.Engine.ReadHistory(["/slow/*"], since, 10);
        Assert.True(slow.Complete);
        Assert.Same(missed, Assert.Single(slow.Messages));
        // A new /fast channel starts a history of its own, but its rule already let go of a message after the position.
        await PublishAsync(h, "/fast/y");
        Assert.False(h.Engine.ReadHistory(["/fast/y"], since, 10).Complete);
        Assert.False(h.Engine.ReadHistory(["/slow/x", "/fast/*"], since, 10).Complete);
    }

    private static Harness WithHistory(int size, TimeSpan? ttl = null, int maxRecovered = 1000)
    {
        var options = new HalleyOptions();
        options.History.Channels["/h/**"] = new HistoryRule { Size = size, Ttl = ttl ?? TimeSpan.FromMinutes(10) };
        options.History.MaxRecoveredMessages = maxRecovered;
        return new Harness(options);
    }

    private static async Task<EncodedMessage> PublishAsync(Harness h, string channel) =>
        await h.Engine.PublishAsync(channel, "1"u8.ToArray(), default, CancellationToken.None);

    private class Recorder : ISubscriber
    {
        public List<EncodedMessage> Received { get; } = [];

        public void Deliver(EncodedMessage message) => Received.Add(message);
    }

    /// <summary>A subscriber that already holds <c>held</c>, with a queue of a given room.</summary>
    private sealed class HoldingRecorder(params HeldSubscription[] held) : Recorder, IRecoveringSubscriber
    {
        public int QueueRoom { get; init; } = int.MaxValue;

        public List<(string Keys, long ReceivedAfter)> TookEffect { get; } = [];

        public void CopyHeldSubscriptions(List<HeldSubscription> into) => into.AddRange(held);

        // Single-threaded: nothing is delivered while a recovery reads, so there is nothing to hold aside.
        public void BeginRecovery(IReadOnlyList<string> keys)
        {
        }

        public void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay) => Received.AddRange(replay);

        public void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter) => TookEffect.Add((string.Join(' ', keys), receivedAfter));
    }
}
