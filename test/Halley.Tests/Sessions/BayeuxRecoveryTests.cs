using System.Text.Json;
using Halley.Engine;
using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Sessions;

/// <summary>
/// Recovery through <c>/meta/subscribe</c> with <c>ext.halley.position</c>, case by case: what a session already
/// received is not replayed (and nothing else is skipped), what a held channel missed comes in order or the recovery
/// is not made, a removed history bounds only the keys its rule can reach, and a replay fits in what is left of the
/// session's queue or is not made.
/// </summary>
public class BayeuxRecoveryTests
{
    [Fact]
    public async Task Subscribe_FromAnOlderPosition_ReplaysTheMessagesOfAHeldChannelFromBeforeItWasHeld()
    {
        using var h = WithRules(("/h/**", TimeSpan.FromHours(1)));
        var since = (await h.PublishAsync("/h/a")).Position!.Value;
        var missedOnA = await h.PublishAsync("/h/a");
        var missedOnB = await h.PublishAsync("/h/b");
        var clientId = await h.HandshakeAsync();
        await SubscribeAsync(h, clientId, "/h/a", since: null);
        var laterOnB = await h.PublishAsync("/h/b");

        // /h/a is held, but only since after missedOnA: the session never received it. /h/a has had nothing since
        // (a newer message of a channel it does not hold is no matter), so missedOnA still comes in order.
        var reply = await SubscribeAsync(h, clientId, "/h/**", since);

        Assert.True(reply.Recovered);
        Assert.Equal([missedOnA, missedOnB, laterOnB], await ReadAsync(h, clientId));
    }

    [Fact]
    public async Task Subscribe_FromAnOlderPosition_IsNotRecovered_WhenAHeldChannelDeliveredANewerMessageThanItWouldReplay()
    {
        using var h = WithRules(("/h/**", TimeSpan.FromHours(1)));
        var since = (await h.PublishAsync("/h/a")).Position!.Value;
        await h.PublishAsync("/h/a");
        await h.PublishAsync("/h/b");
        var clientId = await h.HandshakeAsync();
        await SubscribeAsync(h, clientId, "/h/a", since: null);
        var liveOnA = await h.PublishAsync("/h/a");

        // The /h/a message the session never received is older than liveOnA, already queued: it could only come
        // after it. Nothing is replayed (not /h/b's either), and the subscription starts from the reply's position.
        var reply = await SubscribeAsync(h, clientId, "/h/**", since);
        var liveOnB = await h.PublishAsync("/h/b");

        Assert.False(reply.Recovered);
        Assert.Equal(liveOnA.Position, reply.Position);
        Assert.Equal([liveOnA, liveOnB], await ReadAsync(h, clientId));
    }

    [Fact]
    public async Task Subscribe_FromAnOlderPosition_DoesNotReplayAgainWhatAnEarlierRecoveryReplayed()
    {
        using var h = WithRules(("/h/**", TimeSpan.FromHours(1)));
        var since = (await h.PublishAsync("/h/a")).Position!.Value;
        var missedOnA = await h.PublishAsync("/h/a");
        var missedOnB = await h.PublishAsync("/h/b");
        var clientId = await h.HandshakeAsync();
        Assert.True((await SubscribeAsync(h, clientId, "/h/a", since)).Recovered);
        var liveOnA = await h.PublishAsync("/h/a");

        var reply = await SubscribeAsync(h, clientId, "/h/**", since);

        // /h/a is held from the position itself, so it needs nothing replayed, and its newer liveOnA puts nothing
        // out of order: only /h/b's message is replayed (after liveOnA, but each channel is in order).
        Assert.True(reply.Recovered);
        Assert.Equal([missedOnA, liveOnA, missedOnB], await ReadAsync(h, clientId));
    }

    [Fact]
    public async Task Subscribe_AfterAnotherRulesHistoryWasRemoved_StillRecovers_ButNotOverTheChannelsThatLostMessages()
    {
        using var h = WithRules(("/slow/**", TimeSpan.FromHours(1)), ("/slow/fast", TimeSpan.FromSeconds(10)), ("/fast/**", TimeSpan.FromSeconds(10)));
        var since = (await h.PublishAsync("/slow/x")).Position!.Value;
        await h.PublishAsync("/fast/x");
        await h.PublishAsync("/slow/fast");
        var missed = await h.PublishAsync("/slow/x");
        h.Time.Advance(TimeSpan.FromSeconds(11));
        h.Engine.ExpireHistory();
        Assert.Equal((1, 2L), h.Engine.HistorySize); // /fast/x and /slow/fast expired, and their histories are gone

        // /slow/x lost nothing: the short-lived histories removed meanwhile were never its rule's.
        var clientId = await h.HandshakeAsync();
        Assert.True((await SubscribeAsync(h, clientId, "/slow/x", since)).Recovered);
        Assert.Equal([missed], await ReadAsync(h, clientId));

        // Every key that reaches a channel which let go of a message after the position still says so.
        foreach (var key in new[] { "/fast/x", "/fast/*", "/fast/**", "/slow/fast", "/slow/*", "/slow/**" })
        {
            var other = await h.HandshakeAsync();
            Assert.False((await SubscribeAsync(h, other, key, since)).Recovered, key);
            Assert.Empty(await ReadAsync(h, other));
        }
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task Subscribe_ReplaysOnlyWhatFitsInTheRoomLeftInTheQueue(int queued, bool recovered)
    {
        using var h = WithRules(("/h/**", TimeSpan.FromHours(1)), maxQueue: 5);
        var since = (await h.PublishAsync("/h/a")).Position!.Value;
        var missed = new[] { await h.PublishAsync("/h/a"), await h.PublishAsync("/h/a"), await h.PublishAsync("/h/a") };
        var clientId = await h.HandshakeAsync();
        await SubscribeAsync(h, clientId, "/live", since: null);
        var live = new List<EncodedMessage>();
        for (var i = 0; i < queued; i++)
        {
            live.Add(await h.PublishAsync("/live"));
        }

        var reply = await SubscribeAsync(h, clientId, "/h/a", since);

        // Three missed messages fit beside two queued ones in a queue of five, not beside three: then nothing is
        // replayed, and the session lives on with what it had.
        Assert.Equal(recovered, reply.Recovered);
        Assert.Equal(recovered ? [.. live, .. missed] : live, await ReadAsync(h, clientId));
    }

    private static Harness WithRules((string Key, TimeSpan Ttl) first, (string Key, TimeSpan Ttl)? second = null, (string Key, TimeSpan Ttl)? third = null, int maxQueue = 1000)
    {
        var options = new HalleyOptions { MaxQueue = maxQueue };
        foreach (var (key, ttl) in new[] { first, second, third }.OfType<(string, TimeSpan)>())
        {
            options.History.Channels[key] = new HistoryRule { Size = 100, Ttl = ttl };
        }
        return new Harness(options);
    }

    private static async Task<(bool Recovered, StreamPosition Position)> SubscribeAsync(Harness h, string clientId, string channel, StreamPosition? since)
    {
        var ext = since is { } p ? $$$""","ext":{"halley":{"position":"{{{p}}}"}}""" : "";
        var (replies, _) = await h.SendAsync($$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"{{channel}}"{{ext}}}""");
        var reply = Wire.Parse(Assert.Single(replies));
        Assert.True(reply.GetProperty("successful").GetBoolean(), reply.ToString());
        var halley = reply.GetProperty("ext").GetProperty("halley");
        Assert.True(StreamPosition.TryParse(halley.GetProperty("position").GetString(), out var position));
        return (halley.TryGetProperty("recovered", out var recovered) && recovered.ValueKind == JsonValueKind.True, position);
    }

    /// <summary>Reads the session's queue with a connect that does not wait; the session must still be alive.</summary>
    private static async Task<List<EncodedMessage>> ReadAsync(Harness h, string clientId)
    {
        var (replies, pending) = await h.SendAsync($$$"""{"channel":"/meta/connect","clientId":"{{{clientId}}}","connectionType":"long-polling","advice":{"timeout":0}}""");
        Assert.Empty(replies);
        Assert.NotNull(pending);
        var events = new List<EncodedMessage>();
        var reply = h.Processor.CompleteConnect(pending, await pending.Held.Outcome.WaitAsync(TimeSpan.FromSeconds(10)), events);
        Assert.True(reply.Successful, reply.Error);
        return events;
    }
}
