using System.Text;
using Halley.Engine;
using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// "Hot paths allocate nothing per subscriber" (DESIGN.md), measured: the bytes one publish allocates on the
/// publishing thread must be the same for 100 subscribers as for 10,000. The publish runs synchronously on the
/// test's thread (the in-memory broker delivers inline), so <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// sees the whole fan-out and nothing from other tests. The benchmarks (bench/Halley.Benchmarks, FanOutBenchmarks)
/// measure the same thing with BenchmarkDotNet; this is the fast check that runs with every test pass.
/// </summary>
public class FanOutAllocationTests
{
    private const int Few = 100;
    private const int Many = 10_000;

    // What one publish may allocate more for 10,000 subscribers than for 100. The smallest object is 24 bytes, so
    // one allocation for even every 400th extra subscriber (9,900 of them) would exceed this.
    private const long Tolerance = 512;

    private static readonly byte[] Data = Encoding.UTF8.GetBytes("""{"symbol":"EURUSD","bid":1.08412,"ask":1.08415,"ts":1735689600000}""");

    [Fact]
    public void Publish_ToOneChannel_AllocatesNothingPerSubscriber()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 1_000_000 });
        var few = Subscribe(h, "/fan/small", Few);
        var many = Subscribe(h, "/fan/large", Many);
        // Warm up: the first Enqueue gives each session's Queue<T> its array (4 slots, 56 bytes per session), which
        // Drain does not give back. Without this the first round would measure queue growth, not the fan-out (and
        // fail: Measurement_SeesPerSubscriberAllocation_WhenThereIsOne). It also runs every method of the path once.
        for (var i = 0; i < 4; i++)
        {
            MeasurePublish(h, "/fan/small", few);
            MeasurePublish(h, "/fan/large", many);
        }

        AssertSameAllocation(h, "/fan/small", few, "/fan/large", many);
    }

    [Fact]
    public void Measurement_SeesPerSubscriberAllocation_WhenThereIsOne()
    {
        // The check above must be able to fail. Without the warm-up, the first publish to fresh sessions makes each
        // Queue<T> allocate its first array: a real per-subscriber allocation, which the same measurement must see.
        using var h = new Harness(new HalleyOptions { MaxQueue = 1_000_000 });
        var warm = Subscribe(h, "/fan/warm", 1);
        MeasurePublish(h, "/fan/warm", warm); // JIT and first-call setup, so only the queues differ below.
        var few = Subscribe(h, "/fan/small", Few);
        var many = Subscribe(h, "/fan/large", Many);

        var fewBytes = MeasurePublish(h, "/fan/small", few);
        var manyBytes = MeasurePublish(h, "/fan/large", many);

        var perSubscriber = (double)(manyBytes - fewBytes) / (Many - Few);
        Assert.True(manyBytes - fewBytes >= Tolerance, $"Queue growth went unseen: {fewBytes} B vs {manyBytes} B.");
        Assert.InRange(perSubscriber, 24, 1024);
    }

    // Until ed708e6 this path built a new HashSet per publish: 67 B per subscriber (8,632 B for 101 subscribers,
    // 674,304 B for 10,001). It must stay allocation-free per subscriber too.
    [Fact]
    public void Publish_ToNameAndWildcardSubscribers_AllocatesNothingPerSubscriber()
    {
        using var h = new Harness(new HalleyOptions { MaxQueue = 1_000_000 });
        // One session on /small/** (a monitor) next to the subscribers of the channel's name: two keys match.
        var few = Subscribe(h, "/small/room", Few);
        few.Add(Subscribe(h, "/small/**", 1)[0]);
        var many = Subscribe(h, "/large/room", Many);
        many.Add(Subscribe(h, "/large/**", 1)[0]);
        for (var i = 0; i < 4; i++)
        {
            MeasurePublish(h, "/small/room", few);
            MeasurePublish(h, "/large/room", many);
        }

        AssertSameAllocation(h, "/small/room", few, "/large/room", many);
    }

    /// <summary>
    /// Publishes to both channels a few times, alternately, and asserts every pair allocated the same: an allocation
    /// per subscriber that happens only now and then (a queue growing) fails as surely as one on every publish.
    /// Channel names have the same length, so the encoded events are the same size.
    /// </summary>
    private static void AssertSameAllocation(Harness h, string fewChannel, List<BayeuxSession> few, string manyChannel, List<BayeuxSession> many)
    {
        for (var round = 0; round < 3; round++)
        {
            var fewBytes = MeasurePublish(h, fewChannel, few);
            var manyBytes = MeasurePublish(h, manyChannel, many);
            Assert.True(fewBytes > 0, "The measurement saw no allocation at all; the encode alone allocates, so it is not measuring the publish.");
            Assert.True(
                Math.Abs(manyBytes - fewBytes) < Tolerance,
                $"One publish allocated {fewBytes} B with {few.Count} subscribers and {manyBytes} B with {many.Count}: " +
                $"{(double)(manyBytes - fewBytes) / (many.Count - few.Count):F1} B per extra subscriber (round {round + 1}).");
        }
    }

    /// <summary>Publishes once and returns the bytes the publish allocated; then drains every queue, unmeasured.</summary>
    private static long MeasurePublish(Harness h, string channel, List<BayeuxSession> sessions)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var publish = h.Engine.PublishAsync(channel, Data, default, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(publish.IsCompletedSuccessfully, "The in-memory broker should deliver synchronously.");
        var sent = publish.IsCompletedSuccessfully ? publish.Result : null;
        var events = new List<EncodedMessage>();
        foreach (var session in sessions)
        {
            session.Drain(NullPushTarget.Instance, events);
            Assert.Same(sent, Assert.Single(events));
            events.Clear();
        }
        return allocated;
    }

    /// <summary>Creates sessions through the registry, subscribed as the processor subscribes them, each with a push target.</summary>
    private static List<BayeuxSession> Subscribe(Harness h, string channelOrPattern, int count)
    {
        var sessions = new List<BayeuxSession>(count + 1);
        for (var i = 0; i < count; i++)
        {
            var session = h.Registry.Create(browserId: null, owner: null);
            Assert.True(session.AddSubscription(channelOrPattern, int.MaxValue, out _));
            Assert.True(h.Engine.Subscribe(channelOrPattern, session));
            // A push target, as a WebSocket connection would attach: Deliver takes its wake-up path, and the
            // test can drain the queue with Drain.
            Assert.True(session.AttachPushTarget(NullPushTarget.Instance));
            sessions.Add(session);
        }
        return sessions;
    }

    private sealed class NullPushTarget : IPushTarget
    {
        public static readonly NullPushTarget Instance = new();

        public void MessagesAvailable()
        {
        }

        public void Released()
        {
        }
    }
}
