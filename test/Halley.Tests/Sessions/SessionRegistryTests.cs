using System.Text;
using Halley.Engine;
using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Sessions;

public class SessionRegistryTests
{
    private static EncodedMessage Msg(string data, bool lazy = false) =>
        new("/a", Encoding.UTF8.GetBytes($$"""{"channel":"/a","data":{{data}}}""")) { IsLazy = lazy };

    private static long Far(Harness h) => h.Registry.Now + h.Registry.ToTicks(TimeSpan.FromHours(1));

    private static List<EncodedMessage> Complete(BayeuxSession session, HeldConnect held)
    {
        var events = new List<EncodedMessage>();
        session.CompleteConnect(held, events);
        return events;
    }

    private sealed class PushTarget : IPushTarget
    {
        public int Calls { get; private set; }

        public int Releases { get; private set; }

        public void MessagesAvailable() => Calls++;

        public void Released() => Releases++;
    }

    [Fact]
    public void Create_Ids_Are32LowercaseHex_AndDistinct()
    {
        using var h = new Harness();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 200; i++)
        {
            var session = h.Registry.Create(null, null);
            Assert.Matches("^[0-9a-f]{32}$", session.Id);
            Assert.Matches("^[0-9a-f]{32}$", session.Token);
            Assert.NotEqual(session.Id, session.Token);
            Assert.True(ids.Add(session.Id));
        }
        Assert.Equal(200, h.Registry.Count);
    }

    [Fact]
    public void Create_IsFoundById()
    {
        using var h = new Harness();
        var session = h.Registry.Create("b", null);

        Assert.True(h.Registry.TryGet(session.Id, out var found));
        Assert.Same(session, found);
        Assert.Equal("b", found.BrowserId);
        Assert.False(h.Registry.TryGet(null, out _));
        Assert.False(h.Registry.TryGet("nope", out _));
    }

    [Fact]
    public void BeginConnect_WithQueuedMessages_CompletesAtOnceWithMessages()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var m1 = Msg("1");
        var m2 = Msg("2");
        session.Deliver(m1);
        session.Deliver(m2);

        var held = session.BeginConnect(Far(h), replyNow: false)!;

        Assert.True(held.IsCompleted);
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Equal([m1, m2], Complete(session, held));
        Assert.Equal(0, session.QueuedCount);
    }

    [Fact]
    public void BeginConnect_WithNothingQueued_StaysPendingUntilDeliver()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);

        var held = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.False(held.IsCompleted);

        var m = Msg("1");
        session.Deliver(m);

        Assert.True(held.IsCompleted);
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Equal([m], Complete(session, held));
    }

    [Fact]
    public void BeginConnect_ReplyNow_CompletesAtOnceEvenIfEmpty()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);

        var held = session.BeginConnect(Far(h), replyNow: true)!;

        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Empty(Complete(session, held));
    }

    [Fact]
    public void BeginConnect_Second_CompletesFirstWithReplaced()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var first = session.BeginConnect(Far(h), replyNow: false)!;

        var second = session.BeginConnect(Far(h), replyNow: false)!;

        Assert.Equal(ConnectOutcome.Replaced, Held.OutcomeNow(first));
        Assert.False(second.IsCompleted);
        // The replaced connect no longer owns the queue.
        var events = new List<EncodedMessage>();
        Assert.Null(session.CompleteConnect(first, events));
        session.Deliver(Msg("1"));
        Assert.Empty(events);
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(second));
    }

    [Fact]
    public void Sweep_CompletesHeldConnectAsTimeout_OnlyOnceDeadlinePasses()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var held = session.BeginConnect(h.Registry.Now + h.Registry.ToTicks(TimeSpan.FromSeconds(20)), replyNow: false)!;

        h.Time.Advance(TimeSpan.FromSeconds(20) - TimeSpan.FromTicks(1));
        h.Registry.Sweep();
        Assert.False(held.IsCompleted);

        h.Time.AdvanceTicks(1);
        h.Registry.Sweep();
        Assert.Equal(ConnectOutcome.Timeout, Held.OutcomeNow(held));
        Assert.Empty(Complete(session, held));
        Assert.False(session.IsTerminated);
    }

    [Fact]
    public void Sweep_SeesAHeldConnectsDeadline_EarlierThanTheExpiryItLookedAtBefore()
    {
        using var h = new Harness(new HalleyOptions { MaxInterval = TimeSpan.FromHours(1) });
        var session = h.Registry.Create(null, null);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Registry.Sweep();

        // The sweep's table holds the expiry an hour away; the connect must bring its own deadline forward.
        var held = session.BeginConnect(h.Registry.Now + h.Registry.ToTicks(TimeSpan.FromSeconds(5)), replyNow: false)!;
        h.Time.Advance(TimeSpan.FromSeconds(5));
        h.Registry.Sweep();

        Assert.Equal(ConnectOutcome.Timeout, Held.OutcomeNow(held));
    }

    [Fact]
    public void SweepSlots_FollowTheLiveSessions_AndAreReused()
    {
        using var h = new Harness(new HalleyOptions { MaxInterval = TimeSpan.FromSeconds(10) });
        var sessions = Enumerable.Range(0, 5).Select(_ => h.Registry.Create(null, null)).ToList();
        Assert.Equal(5, h.Registry.SweepSlots);

        h.Registry.Terminate(sessions[1], TerminationReason.Disconnected);
        h.Registry.Terminate(sessions[1], TerminationReason.Disconnected);
        Assert.Equal(4, h.Registry.SweepSlots);

        var fresh = h.Registry.Create(null, null);
        Assert.Equal(5, h.Registry.SweepSlots);

        // The reused slot times its new session, not the old one.
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Registry.Sweep();
        Assert.Equal(TerminationReason.Expired, fresh.TerminationReason);
        Assert.All(sessions.Where(s => s != sessions[1]), s => Assert.Equal(TerminationReason.Expired, s.TerminationReason));
        Assert.Equal(0, h.Registry.SweepSlots);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public void Sweep_ExpiresSession_AfterMaxIntervalWithoutConnect()
    {
        using var h = new Harness(new HalleyOptions { MaxInterval = TimeSpan.FromSeconds(10) });
        var session = h.Registry.Create(null, null);

        h.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        h.Registry.Sweep();
        Assert.False(session.IsTerminated);
        Assert.Equal(1, h.Registry.Count);

        h.Time.AdvanceTicks(1);
        h.Registry.Sweep();
        Assert.Equal(TerminationReason.Expired, session.TerminationReason);
        Assert.Equal(0, h.Registry.Count);
        Assert.False(h.Registry.TryGet(session.Id, out _));
    }

    [Fact]
    public void Sweep_NeverExpiresSession_WhileConnectIsHeld()
    {
        using var h = new Harness(new HalleyOptions { MaxInterval = TimeSpan.FromSeconds(10) });
        var session = h.Registry.Create(null, null);
        var held = session.BeginConnect(Far(h), replyNow: false)!;

        h.Time.Advance(TimeSpan.FromMinutes(30));
        h.Registry.Sweep();

        Assert.False(session.IsTerminated);
        Assert.False(held.IsCompleted);
        Assert.Equal(1, h.Registry.Count);
    }

    [Fact]
    public void Sweep_ExpiryCountsFromConnectReply()
    {
        using var h = new Harness(new HalleyOptions { MaxInterval = TimeSpan.FromSeconds(10) });
        var session = h.Registry.Create(null, null);
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        h.Time.Advance(TimeSpan.FromSeconds(25));
        session.Deliver(Msg("1"));
        Complete(session, held);

        h.Time.Advance(TimeSpan.FromSeconds(9));
        h.Registry.Sweep();
        Assert.False(session.IsTerminated);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Registry.Sweep();
        Assert.Equal(TerminationReason.Expired, session.TerminationReason);
    }

    [Fact]
    public void Terminate_Disconnected_CompletesHeldConnectWithTerminated_AndUnsubscribes()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        Assert.True(session.AddSubscription("/a/b", 10, out _));
        h.Engine.Subscribe("/a/b", session);
        Assert.True(session.AddSubscription("/c/**", 10, out _));
        h.Engine.Subscribe("/c/**", session);
        var held = session.BeginConnect(Far(h), replyNow: false)!;

        h.Registry.Terminate(session, TerminationReason.Disconnected);

        Assert.Equal(ConnectOutcome.Terminated, Held.OutcomeNow(held));
        Assert.Equal(TerminationReason.Disconnected, session.TerminationReason);
        Assert.Equal(0, h.Engine.SubscribedKeyCount);
        Assert.Equal(0, session.SubscriptionCount);
        Assert.Equal(0, h.Registry.Count);
        Assert.Null(session.BeginConnect(Far(h), replyNow: false));
    }

    [Fact]
    public void Terminate_Twice_KeepsFirstReason()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);

        h.Registry.Terminate(session, TerminationReason.Disconnected);
        h.Registry.Terminate(session, TerminationReason.Expired);

        Assert.Equal(TerminationReason.Disconnected, session.TerminationReason);
    }

    [Fact]
    public void Deliver_AfterTerminate_IsIgnored()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        h.Registry.Terminate(session, TerminationReason.Disconnected);

        session.Deliver(Msg("1"));

        Assert.Equal(0, session.QueuedCount);
    }

    [Fact]
    public void QueueFull_DisconnectPolicy_TerminatesSessionWithQueueFull()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 3, QueueFullPolicy = QueueFullPolicy.Disconnect });
        var session = h.Registry.Create(null, null);
        session.Deliver(Msg("1"));
        session.Deliver(Msg("2"));
        session.Deliver(Msg("3"));
        Assert.False(session.IsTerminated);

        session.Deliver(Msg("4"));

        Assert.Equal(TerminationReason.QueueFull, session.TerminationReason);
        Assert.Equal(0, h.Registry.Count);
        Assert.Equal(0, session.QueuedCount);
    }

    [Fact]
    public void QueueFull_DropOldestPolicy_KeepsNewestInOrder()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 3, QueueFullPolicy = QueueFullPolicy.DropOldest });
        var session = h.Registry.Create(null, null);
        var messages = Enumerable.Range(1, 7).Select(i => Msg(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        foreach (var m in messages)
        {
            session.Deliver(m);
        }

        Assert.False(session.IsTerminated);
        Assert.Equal(3, session.QueuedCount);
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.Equal([messages[4], messages[5], messages[6]], Complete(session, held));
    }

    [Fact]
    public void QueueFull_DropOldestPolicy_WithAck_DropsTheOldestUnacknowledgedMessage()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 2, QueueFullPolicy = QueueFullPolicy.DropOldest });
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        var messages = Enumerable.Range(1, 3).Select(i => Msg(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        session.Deliver(messages[0]);
        session.Deliver(messages[1]);
        // Both are sent in batch 1 and stay unacknowledged; the limit is now reached by them alone.
        var first = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.Equal([messages[0], messages[1]], Complete(session, first));

        session.Deliver(messages[2]);

        Assert.False(session.IsTerminated);
        var second = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.Equal([messages[1], messages[2]], Complete(session, second));
    }

    [Fact]
    public void LazyMessage_DoesNotCompleteHeldConnect_NonLazyDoes()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        var lazy = Msg("1", lazy: true);
        var eager = Msg("2");

        session.Deliver(lazy);
        Assert.False(held.IsCompleted);

        session.Deliver(eager);
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Equal([lazy, eager], Complete(session, held));
    }

    [Fact]
    public void LazyMessage_IsFlushedBySweep_AfterMaxLazyTimeout()
    {
        using var h = new Harness(new HalleyOptions { MaxLazyTimeout = TimeSpan.FromSeconds(5) });
        var session = h.Registry.Create(null, null);
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        var lazy = Msg("1", lazy: true);
        session.Deliver(lazy);

        h.Time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        h.Registry.Sweep();
        Assert.False(held.IsCompleted);

        h.Time.AdvanceTicks(1);
        h.Registry.Sweep();
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Equal([lazy], Complete(session, held));
    }

    [Fact]
    public void LazyMessage_DueBeforeConnect_CompletesNextConnectAtOnce()
    {
        using var h = new Harness(new HalleyOptions { MaxLazyTimeout = TimeSpan.FromSeconds(5), MaxInterval = TimeSpan.FromMinutes(1) });
        var session = h.Registry.Create(null, null);
        var lazy = Msg("1", lazy: true);
        session.Deliver(lazy);

        var early = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.False(early.IsCompleted);
        session.AbandonConnect(early);

        h.Time.Advance(TimeSpan.FromSeconds(5));
        var late = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(late));
        Assert.Equal([lazy], Complete(session, late));
    }

    [Fact]
    public async Task LazyMessages_ThroughEngine_WaitForNonLazyOne()
    {
        using var h = new Harness(new HalleyOptions { LazyChannels = ["/ticker/**"] });
        var session = h.Registry.Create(null, null);
        h.Engine.Subscribe("/**", session);
        var held = session.BeginConnect(Far(h), replyNow: false)!;

        var tick = await h.PublishAsync("/ticker/x");
        Assert.False(held.IsCompleted);
        var chat = await h.PublishAsync("/chat");

        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
        Assert.Equal([tick, chat], Complete(session, held));
    }

    [Fact]
    public void Ack_BatchNumbersIncrease()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        var batches = new List<long?>();

        for (var i = 0; i < 3; i++)
        {
            session.Deliver(Msg(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var held = session.BeginConnect(Far(h), replyNow: false)!;
            batches.Add(session.CompleteConnect(held, []));
            session.Acknowledge(batches[^1]!.Value);
        }

        Assert.Equal([1L, 2L, 3L], batches);
    }

    [Fact]
    public void Ack_UnacknowledgedMessages_AreResentFirstInOrder()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        var m1 = Msg("1");
        var m2 = Msg("2");
        var m3 = Msg("3");
        session.Deliver(m1);
        session.Deliver(m2);

        var held1 = session.BeginConnect(Far(h), replyNow: false)!;
        var events1 = new List<EncodedMessage>();
        Assert.Equal(1L, session.CompleteConnect(held1, events1));
        Assert.Equal([m1, m2], events1);

        // The client lost batch 1: it acks batch 0.
        session.Acknowledge(0);
        session.Deliver(m3);
        var held2 = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held2));
        var events2 = new List<EncodedMessage>();
        Assert.Equal(2L, session.CompleteConnect(held2, events2));
        Assert.Equal([m1, m2, m3], events2);
    }

    [Fact]
    public void Ack_UnacknowledgedMessages_CompleteNextConnectAtOnce()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        var m1 = Msg("1");
        session.Deliver(m1);
        var held1 = session.BeginConnect(Far(h), replyNow: false)!;
        session.CompleteConnect(held1, []);

        var held2 = session.BeginConnect(Far(h), replyNow: false)!;

        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held2));
        var events = new List<EncodedMessage>();
        Assert.Equal(2L, session.CompleteConnect(held2, events));
        Assert.Equal([m1], events);
    }

    [Fact]
    public void Ack_OfLatestBatch_ClearsResends()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        var m1 = Msg("1");
        var m2 = Msg("2");
        session.Deliver(m1);
        var held1 = session.BeginConnect(Far(h), replyNow: false)!;
        var batch = session.CompleteConnect(held1, [])!.Value;

        session.Acknowledge(batch);
        var held2 = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.False(held2.IsCompleted);
        session.Deliver(m2);

        var events = new List<EncodedMessage>();
        Assert.Equal(2L, session.CompleteConnect(held2, events));
        Assert.Equal([m2], events);
    }

    [Fact]
    public void Ack_UnacknowledgedMessages_CountAgainstMaxQueue()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 2 });
        var session = h.Registry.Create(null, null);
        session.EnableAck();
        session.Deliver(Msg("1"));
        session.Deliver(Msg("2"));
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        session.CompleteConnect(held, []);

        session.Deliver(Msg("3"));

        Assert.Equal(TerminationReason.QueueFull, session.TerminationReason);
    }

    [Fact]
    public void Ack_Session_RefusesPushTarget()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.EnableAck();

        Assert.False(session.AttachPushTarget(new PushTarget()));
    }

    [Fact]
    public void PushTarget_DeliverCallsMessagesAvailable_NotHeldConnect()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var target = new PushTarget();
        var held = session.BeginConnect(Far(h), replyNow: false)!;
        Assert.True(session.AttachPushTarget(target));
        Assert.Equal(0, target.Calls);

        var m = Msg("1");
        session.Deliver(m);

        Assert.Equal(1, target.Calls);
        Assert.False(held.IsCompleted);
        var drained = new List<EncodedMessage>();
        session.Drain(target, drained);
        Assert.Equal([m], drained);
        Assert.Equal(0, session.QueuedCount);
    }

    [Fact]
    public void PushTarget_AttachedWithQueuedMessages_IsWokenAtOnce()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        session.Deliver(Msg("1"));
        var target = new PushTarget();

        Assert.True(session.AttachPushTarget(target));

        Assert.Equal(1, target.Calls);
    }

    [Fact]
    public void PushTarget_DrainWithDifferentTarget_ReturnsNothing()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var target = new PushTarget();
        session.AttachPushTarget(target);
        session.Deliver(Msg("1"));

        var other = new List<EncodedMessage>();
        session.Drain(new PushTarget(), other);

        Assert.Empty(other);
        Assert.Equal(1, session.QueuedCount);
    }

    [Fact]
    public void PushTarget_Detached_DeliverCompletesHeldConnectAgain()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);
        var target = new PushTarget();
        session.AttachPushTarget(target);
        session.DetachPushTarget(target);
        var held = session.BeginConnect(Far(h), replyNow: false)!;

        session.Deliver(Msg("1"));

        Assert.Equal(0, target.Calls);
        Assert.Equal(ConnectOutcome.Messages, Held.OutcomeNow(held));
    }

    [Fact]
    public void PushTarget_LazyMessage_FlushedBySweepThroughTarget()
    {
        using var h = new Harness(new HalleyOptions { MaxLazyTimeout = TimeSpan.FromSeconds(1), MaxInterval = TimeSpan.FromMinutes(5) });
        var session = h.Registry.Create(null, null);
        var target = new PushTarget();
        session.AttachPushTarget(target);
        session.Deliver(Msg("1", lazy: true));
        Assert.Equal(0, target.Calls);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Registry.Sweep();

        Assert.Equal(1, target.Calls);
    }

    [Fact]
    public void AddSubscription_RespectsLimit_ButAllowsExistingChannel()
    {
        using var h = new Harness();
        var session = h.Registry.Create(null, null);

        Assert.True(session.AddSubscription("/a", 2, out var r1));
        Assert.True(session.AddSubscription("/b", 2, out var r2));
        Assert.False(session.AddSubscription("/a", 2, out var r3));
        Assert.False(session.AddSubscription("/c", 2, out var r4));

        Assert.False(r1);
        Assert.False(r2);
        Assert.False(r3);
        Assert.True(r4);
        Assert.Equal(2, session.SubscriptionCount);
    }

    [Theory]
    [InlineData(nameof(TerminationReason.Expired), "expired")]
    [InlineData(nameof(TerminationReason.QueueFull), "queue_full")]
    [InlineData(nameof(TerminationReason.Kicked), "kicked")]
    public void DroppedReasonTag_NamesEachReasonTheServerEndsASessionFor(string reason, string tag)
    {
        // The reason travels by name: TerminationReason is internal, and a public test method cannot take it.
        Assert.Equal(tag, SessionRegistry.DroppedReasonTag(Enum.Parse<TerminationReason>(reason)));
    }

    [Fact]
    public void DroppedReasonTag_AClientDisconnectIsNoDrop()
    {
        Assert.Null(SessionRegistry.DroppedReasonTag(TerminationReason.Disconnected));
    }

    [Fact]
    public void DroppedReasonTag_AnUnlistedReasonIsOther_NeverQueueFull()
    {
        // None is no reason at all; a value past the last defined one stands for a reason added without a tag.
        Assert.Equal("other", SessionRegistry.DroppedReasonTag(TerminationReason.None));
        Assert.Equal("other", SessionRegistry.DroppedReasonTag((TerminationReason)int.MaxValue));
    }

    [Fact]
    public void DroppedReasonTag_EveryDefinedReasonOtherThanNone_HasItsOwnTag()
    {
        // A reason added to the enum must be given its own tag here, not fall into "other".
        var tags = Enum.GetValues<TerminationReason>()
            .Where(static r => r is not TerminationReason.None and not TerminationReason.Disconnected)
            .Select(SessionRegistry.DroppedReasonTag)
            .ToList();

        Assert.DoesNotContain("other", tags);
        Assert.Equal(tags.Count, tags.Distinct(StringComparer.Ordinal).Count());
    }
}
