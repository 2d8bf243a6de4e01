using System.Text;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Tests.Sessions;

/// <summary>
/// The one outbox of sessions and streams on its own: the queue-full policy, what counts against the bound (queued,
/// held aside for a recovery, sent and unacknowledged), the one wake-up per transition, and the order it drains in.
/// </summary>
public class OutboxTests
{
    private static EncodedMessage Msg(string channel, string data, bool lazy = false) =>
        new(channel, Encoding.UTF8.GetBytes($$"""{"channel":"{{channel}}","data":{{data}}}""")) { IsLazy = lazy };

    private static EncodedMessage[] Messages(string channel, int count) =>
        [.. Enumerable.Range(1, count).Select(i => Msg(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))];

    private sealed class Reader : IOutboxReader
    {
        public int Calls { get; private set; }

        public void MessagesAvailable() => Calls++;
    }

    private sealed class Clock : ILazyClock
    {
        public long Now { get; set; } = 1_000;

        public long MaxLazyTicks => 100;

        /// <summary>The deadlines the outbox reported, in order.</summary>
        public List<long> DueAt { get; } = [];

        public void LazyDueAt(long deadline) => DueAt.Add(deadline);
    }

    /// <summary>An outbox as a session has one: its owner's lock, a lazy clock.</summary>
    private sealed class Owner
    {
        public Owner(int maxQueue, QueueFullPolicy policy = QueueFullPolicy.Disconnect)
        {
            Outbox = new Outbox(maxQueue, policy, Clock, Gate);
        }

        public Lock Gate { get; } = new();

        public Clock Clock { get; } = new();

        public Outbox Outbox { get; }

        public Reader Attach(bool takesAll = false)
        {
            var reader = new Reader();
            SetReader(reader, takesAll);
            return reader;
        }

        public void SetReader(IOutboxReader? reader, bool takesAll = false)
        {
            IOutboxReader? wake;
            lock (Gate)
            {
                wake = Outbox.SetReaderLocked(reader, takesAll);
            }
            wake?.MessagesAvailable();
        }

        public List<EncodedMessage> Drain()
        {
            var events = new List<EncodedMessage>();
            Outbox.Drain(events);
            return events;
        }

        public (long Batch, List<EncodedMessage> Events) TakeBatch()
        {
            var events = new List<EncodedMessage>();
            lock (Gate)
            {
                return (Outbox.TakeBatchLocked(events), events);
            }
        }

        public void SweepAt(long now)
        {
            IOutboxReader? wake;
            lock (Gate)
            {
                wake = Outbox.WakeIfLazyDueLocked(now);
            }
            wake?.MessagesAvailable();
        }
    }

    [Fact]
    public void Disconnect_RefusesTheMessageOverTheBound_ThenIsClosedAndEmpty()
    {
        var owner = new Owner(2);
        var reader = owner.Attach();
        var messages = Messages("/a", 3);

        Assert.True(owner.Outbox.Add(messages[0]));
        Assert.True(owner.Outbox.Add(messages[1]));
        Assert.False(owner.Outbox.Add(messages[2]));

        Assert.Equal(0, owner.Outbox.Count);
        Assert.Empty(owner.Drain());
        // Closed: later messages are ignored, not reported again, and wake nobody.
        Assert.True(owner.Outbox.Add(messages[2]));
        Assert.Equal(0, owner.Outbox.Count);
        Assert.Equal(1, reader.Calls);
    }

    [Fact]
    public void DropOldest_KeepsTheNewest_InOrder()
    {
        var owner = new Owner(3, QueueFullPolicy.DropOldest);
        var messages = Messages("/a", 7);

        foreach (var message in messages)
        {
            Assert.True(owner.Outbox.Add(message));
        }

        Assert.Equal(messages[4..], owner.Drain());
    }

    [Fact]
    public void Bound_CountsWhatIsHeldAsideForARecovery()
    {
        var owner = new Owner(3);
        owner.Outbox.BeginRecovery(["/r"]);
        Assert.True(owner.Outbox.Add(Msg("/r", "1")));
        Assert.True(owner.Outbox.Add(Msg("/r", "2")));
        Assert.True(owner.Outbox.Add(Msg("/a", "3")));

        Assert.Equal(1, owner.Outbox.Count);
        Assert.Equal(0, owner.Outbox.Room);
        Assert.False(owner.Outbox.Add(Msg("/a", "4")));
    }

    [Fact]
    public void Bound_CountsSentButUnacknowledgedMessages_UntilAcknowledged()
    {
        var owner = new Owner(2);
        owner.Outbox.KeepUntilAcknowledged();
        var messages = Messages("/a", 3);
        owner.Outbox.Add(messages[0]);
        owner.Outbox.Add(messages[1]);
        var (batch, sent) = owner.TakeBatch();
        Assert.Equal(messages[..2], sent);
        Assert.Equal(0, owner.Outbox.Count);
        Assert.Equal(0, owner.Outbox.Room);

        lock (owner.Gate)
        {
            owner.Outbox.AcknowledgeLocked(batch);
        }

        Assert.Equal(2, owner.Outbox.Room);
        Assert.True(owner.Outbox.Add(messages[2]));
    }

    [Fact]
    public void Bound_Overflows_WhenUnacknowledgedMessagesFillIt()
    {
        var owner = new Owner(2);
        owner.Outbox.KeepUntilAcknowledged();
        owner.Outbox.Add(Msg("/a", "1"));
        owner.Outbox.Add(Msg("/a", "2"));
        owner.TakeBatch();

        Assert.False(owner.Outbox.Add(Msg("/a", "3")));
    }

    [Fact]
    public void DropOldest_DropsUnacknowledgedFirst_ThenQueued_ThenHeldAside()
    {
        var owner = new Owner(3, QueueFullPolicy.DropOldest);
        owner.Outbox.KeepUntilAcknowledged();
        owner.Outbox.Add(Msg("/a", "sent"));
        owner.TakeBatch();
        owner.Outbox.BeginRecovery(["/r"]);
        owner.Outbox.Add(Msg("/r", "held"));
        owner.Outbox.Add(Msg("/a", "queued"));
        Assert.Equal(0, owner.Outbox.Room);

        // Full: the unacknowledged message goes first (it was sent first), then the queued one.
        var x1 = Msg("/a", "x1");
        var x2 = Msg("/a", "x2");
        owner.Outbox.Add(x1);
        owner.Outbox.Add(x2);
        var (batch, events) = owner.TakeBatch();
        Assert.Equal([x1, x2], events);

        // With nothing unacknowledged or queued, what is held aside goes, oldest first.
        lock (owner.Gate)
        {
            owner.Outbox.AcknowledgeLocked(batch);
        }
        var held = Messages("/r", 3);
        foreach (var message in held)
        {
            owner.Outbox.Add(message);
        }
        Assert.True(owner.Outbox.EndRecovery(["/r"], []));
        Assert.Equal(held, owner.Drain());
    }

    [Fact]
    public void Wakes_ItsReader_OncePerTransition()
    {
        var owner = new Owner(100);
        var reader = owner.Attach();

        owner.Outbox.Add(Msg("/a", "1"));
        owner.Outbox.Add(Msg("/a", "2"));
        owner.Outbox.Add(Msg("/a", "3"));
        Assert.Equal(1, reader.Calls);

        Assert.Equal(3, owner.Drain().Count);
        owner.Outbox.Add(Msg("/a", "4"));
        owner.Outbox.Add(Msg("/a", "5"));
        Assert.Equal(2, reader.Calls);
    }

    [Fact]
    public void Wakes_ANewReader_ForWhatWaits_AndTheSameReaderNotAgain()
    {
        var owner = new Owner(100);
        owner.Outbox.Add(Msg("/a", "1"));
        var first = owner.Attach();
        Assert.Equal(1, first.Calls);

        owner.SetReader(first);
        owner.Outbox.Add(Msg("/a", "2"));
        Assert.Equal(1, first.Calls);

        // Another takes over before the first drained: it is woken for what waits, the first is not woken again.
        var second = owner.Attach();
        owner.Outbox.Add(Msg("/a", "3"));
        Assert.Equal(1, second.Calls);
        Assert.Equal(1, first.Calls);
    }

    [Fact]
    public void WithoutAReader_QueuesAndWakesNobody_UntilOneComes()
    {
        var owner = new Owner(100);
        var reader = owner.Attach();
        owner.SetReader(null);

        owner.Outbox.Add(Msg("/a", "1"));
        Assert.Equal(0, reader.Calls);

        owner.SetReader(reader);
        Assert.Equal(1, reader.Calls);
    }

    [Fact]
    public void LazyMessages_WakeNobody_UntilANonLazyOneOrTheirDeadline_ThenOnce()
    {
        var owner = new Owner(100);
        var reader = owner.Attach();
        var lazy = Msg("/t", "1", lazy: true);

        owner.Outbox.Add(lazy);
        owner.SweepAt(owner.Clock.Now + 99);
        Assert.Equal(0, reader.Calls);

        owner.SweepAt(owner.Clock.Now + 100);
        owner.SweepAt(owner.Clock.Now + 200);
        Assert.Equal(1, reader.Calls);
        Assert.Equal([lazy], owner.Drain());

        owner.Outbox.Add(Msg("/t", "2", lazy: true));
        owner.Outbox.Add(Msg("/a", "3"));
        Assert.Equal(2, reader.Calls);
    }

    [Fact]
    public void ALazyMessage_TellsTheClockWhenItFallsDue_OncePerWait()
    {
        var owner = new Owner(100);
        var reader = owner.Attach();

        owner.Outbox.Add(Msg("/t", "1", lazy: true));
        owner.Outbox.Add(Msg("/t", "2", lazy: true));
        Assert.Equal([owner.Clock.Now + 100], owner.Clock.DueAt);

        owner.SweepAt(owner.Clock.Now + 100);
        Assert.Equal(2, owner.Drain().Count);
        owner.Clock.Now += 500;
        owner.Outbox.Add(Msg("/t", "3", lazy: true));
        Assert.Equal([1_100, 1_600], owner.Clock.DueAt);
        Assert.Equal(1, reader.Calls);
    }

    [Fact]
    public void ANewReader_ThatTakesAll_IsWokenForLazyMessagesToo()
    {
        var owner = new Owner(100);
        owner.Outbox.Add(Msg("/t", "1", lazy: true));

        Assert.Equal(0, owner.Attach().Calls);
        Assert.Equal(1, owner.Attach(takesAll: true).Calls);
    }

    [Fact]
    public void WithoutALazyClock_EveryMessageWakes()
    {
        var outbox = new Outbox(10, QueueFullPolicy.Disconnect, lazy: null);
        var reader = new Reader();
        outbox.SetReader(reader);

        outbox.Add(Msg("/t", "1", lazy: true));

        Assert.Equal(1, reader.Calls);
    }

    [Fact]
    public void Drains_TheReplay_ThenWhatWasHeldAside_ThenWhatCameAfter()
    {
        var owner = new Owner(100);
        var reader = owner.Attach();
        var before = Msg("/a", "before");
        owner.Outbox.Add(before);
        owner.Outbox.BeginRecovery(["/r/**"]);
        var live = Msg("/r/x", "live");
        var other = Msg("/a", "other");
        owner.Outbox.Add(live);
        owner.Outbox.Add(other);
        var replay = Messages("/r/x", 2);

        Assert.True(owner.Outbox.EndRecovery(["/r/**"], replay));
        var after = Msg("/r/x", "after");
        owner.Outbox.Add(after);

        Assert.Equal([before, other, replay[0], replay[1], live, after], owner.Drain());
        Assert.Equal(1, reader.Calls);
    }

    [Fact]
    public void EndRecovery_OverTheBound_Overflows()
    {
        var owner = new Owner(2);
        owner.Outbox.BeginRecovery(["/r"]);
        owner.Outbox.Add(Msg("/r", "live"));

        Assert.False(owner.Outbox.EndRecovery(["/r"], Messages("/r", 2)));
        Assert.Equal(0, owner.Outbox.Count);
    }

    [Fact]
    public void Requeue_PutsLostMessagesFirst_WithinTheBound()
    {
        var owner = new Owner(3);
        var history = Enumerable.Range(1, 4).Select(i =>
        {
            var message = Msg("/h", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            message.AssignPosition(new StreamPosition("e", i));
            return message;
        }).ToArray();
        foreach (var message in history)
        {
            owner.Outbox.Add(message);
            owner.Drain();
        }
        Assert.Equal(4, owner.Outbox.LastDrained);
        var queued = Msg("/a", "queued");
        owner.Outbox.Add(queued);

        lock (owner.Gate)
        {
            // The client saw 1: 2, 3 and 4 were lost; two fit beside the queued one, the newest.
            owner.Outbox.RequeueLocked(history, resumeAfter: 1);
        }

        Assert.Equal([history[2], history[3], queued], owner.Drain());
    }

    [Fact]
    public void Close_ForgetsTheReader_AndEverythingQueuedOrHeld()
    {
        var owner = new Owner(10);
        var reader = owner.Attach();
        owner.Outbox.BeginRecovery(["/r"]);
        owner.Outbox.Add(Msg("/r", "held"));

        owner.Outbox.Close();
        owner.Outbox.Add(Msg("/a", "late"));

        Assert.Equal(0, reader.Calls);
        Assert.True(owner.Outbox.EndRecovery(["/r"], []));
        Assert.Empty(owner.Drain());
        Assert.Equal(10, owner.Outbox.Room);
    }
}
