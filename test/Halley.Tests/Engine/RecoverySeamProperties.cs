using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// The issue's promise, checked on the real <see cref="MessageEngine"/> over random scenarios: "within the
/// retention window, a client that reconnects receives every message it missed, in order, exactly once"; and
/// beyond it, the client is told so and gets nothing partial.
/// </summary>
/// <remarks>
/// A failing case prints the shrunk scenario (a short list of steps) and the subscribe calls it made. The
/// properties were each seen to fail against a deliberately broken engine; the commit that added them lists how.
/// </remarks>
public class RecoverySeamProperties
{
    [Property(MaxTest = 300)]
    public Property WithinRetention_EveryReconnectRecovers_AndTheClientGetsEachMessageOnceInOrder() =>
        Prop.ForAll(ScenarioGen.WithinRetention(), scenario =>
        {
            using var run = new ReconnectingSubscriber(scenario);
            var received = run.Run();

            foreach (var call in run.Calls.Where(c => c.Since is not null))
            {
                Assert.True(call.Outcome.Recovered, $"Within retention a reconnect recovers: {call}");
            }
            var published = run.PublishedToClient();
            if (!run.Split)
            {
                // One subscribe per reconnect: the client's channels form one sequence, the engine's.
                SameMessages(published, received, "received by the client");
            }
            else
            {
                // A reconnect in two subscribes replays the second's channels after the first's live messages:
                // each channel is still one sequence, and nothing is missing or doubled.
                foreach (var channel in RecoveryWorld.Channels)
                {
                    SameMessages([.. published.Where(m => m.Channel == channel)], [.. received.Where(m => m.Channel == channel)], $"received on {channel}");
                }
                Assert.Equal(published.Count, received.Count);
            }
        });

    // 1,000 runs (a fraction of a second): the cases only some rules decide are rare (see the guards below); with 300,
    // an engine without the order rule got through four runs in ten.
    [Property(MaxTest = 1000)]
    public Property AnyRetention_ARecoveryIsCompleteOrReplaysNothing_AsTheRulesSay() =>
        Prop.ForAll(ScenarioGen.AnyRetention(), scenario =>
        {
            using var run = new ReconnectingSubscriber(scenario);
            var received = run.Run();

            foreach (var call in run.Calls)
            {
                Assert.True(call.Expected.Recovered == call.Outcome.Recovered, $"recovered: {call}");
                SameMessages(call.Expected.Replay, call.Delivered, $"replayed by {call}");
                Assert.True(call.TopBefore == call.Outcome.Position, $"The reply's position is the top the subscription took effect at: {call}");
            }
            SameMessages(run.Expected, received, "received by the client over the whole scenario");
            // Whatever the rules let go of, what does arrive on a channel arrives in offset order, replayed or not.
            foreach (var channel in RecoveryWorld.Channels)
            {
                var offsets = received.Where(m => m.Channel == channel && m.Position is not null).Select(m => m.Position!.Value.Offset).ToList();
                Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.First < p.Second), $"Received on {channel} out of order: {string.Join(" ", offsets)}");
            }
        });

    [Fact]
    public void AnyRetention_Scenarios_ExerciseBothOutcomes()
    {
        // Guards the property above against a generator that drifted into testing one outcome only. A fixed seed
        // keeps this test deterministic.
        var outcomes = ScenarioGen.AnyRetention().Generator.Sample(50, new Rnd(20261123UL), 200)
            .SelectMany(scenario =>
            {
                using var run = new ReconnectingSubscriber(scenario);
                run.Run();
                return run.Calls.Where(c => c.Since is not null).Select(c => (c.Outcome.Recovered, Replayed: c.Delivered.Count > 0));
            })
            .ToList();

        Assert.True(outcomes.Count(o => o.Recovered && o.Replayed) > outcomes.Count / 10, "Too few recoveries that replayed something.");
        Assert.True(outcomes.Count(o => !o.Recovered) > outcomes.Count / 10, "Too few recoveries that failed.");
    }

    [Fact]
    public void AnyRetention_Scenarios_ReplayChannelsHeldSinceAfterThePosition()
    {
        // Guards the property above against a generator that never has a key held from later than the position a
        // recovery resumes from (a split reconnect whose first half subscribed afresh): the messages such a key's
        // channels had before it was held must be replayed (while the channel has delivered nothing newer: see the
        // next guard), and only a generator that makes them can tell. It takes overlapping keys, a gap and a
        // recovery that succeeds, so it is rare: 1,000 short scenarios (with this seed, 12 such recoveries; the
        // property, then of 300 runs of growing size, found the engine that skipped them in 6-173).
        var replayed = ScenarioGen.AnyRetention().Generator.Sample(1000, new Rnd(20261123UL), 50)
            .Sum(scenario =>
            {
                using var run = new ReconnectingSubscriber(scenario);
                run.Run();
                return run.Calls.Count(c => c.Since is { } since && c.Delivered.Any(m =>
                    c.Held.Any(h => h.Value > since.Offset && RecoveryWorld.Matches(h.Key, m.Channel) && m.Position!.Value.Offset <= h.Value)));
            });

        Assert.True(replayed >= 5, $"Only {replayed} recoveries replayed a held channel's messages from before it was held.");
    }

    [Fact]
    public void AnyRetention_Scenarios_RefuseToReplayAHeldChannelOutOfOrder()
    {
        // Guards the property above against a generator that never makes the other outcome of the case above: a
        // key held from later than the position whose channel has messages to replay from before it was held, and
        // has delivered a newer one since (published between the two subscribes of a split reconnect). Those could
        // only come after it, so the recovery must not be made; only a generator that makes them can tell an engine
        // that replays them late. Rarer still (the messages in between must not push the older ones out of a small
        // history): 1,000 scenarios of 50 steps (with this seed, 13 such recoveries; at 25 steps, none).
        var refused = ScenarioGen.AnyRetention().Generator.Sample(1000, new Rnd(20261123UL), 100)
            .Sum(scenario =>
            {
                using var run = new ReconnectingSubscriber(scenario);
                run.Run();
                return run.Calls.Count(c => c.Expected.OutOfOrder && !c.Outcome.Recovered);
            });

        Assert.True(refused >= 5, $"Only {refused} recoveries were refused because a held channel's older messages would have come after newer ones.");
    }

    [Property(MaxTest = 60)]
    public Property Seam_PublishersRacingAReconnect_NeitherLoseNorDoubleAMessage() =>
        Prop.ForAll(SeamGen.Scenarios(), scenario =>
        {
            using var run = new RacingReconnect(scenario);
            var received = run.Run();

            foreach (var (outcome, i) in run.Recoveries.Select((o, i) => (o, i)))
            {
                Assert.True(outcome.Recovered, $"reconnect {i + 1} did not recover");
            }
            // Racing publishers have no order but the engine's: each one's messages are in its own order, and the
            // engine's sequence (the offsets) interleaves them.
            var published = run.Published
                .Where(m => RecoveryWorld.MatchesAny(scenario.Keys, m.Channel) && m.Position!.Value.Offset > run.Start)
                .OrderBy(m => m.Position!.Value.Offset)
                .ToList();
            SameMessages(published, received, $"received by the client (racing publishers sent {run.Raced} messages)");
        });

    /// <summary>Asserts the same instances in the same order, showing the neighbourhood of the first difference.</summary>
    internal static void SameMessages(IReadOnlyList<EncodedMessage> expected, IReadOnlyList<EncodedMessage> actual, string what)
    {
        var first = 0;
        while (first < expected.Count && first < actual.Count && ReferenceEquals(expected[first], actual[first]))
        {
            first++;
        }
        if (first == expected.Count && first == actual.Count)
        {
            return;
        }
        var from = Math.Max(0, first - 3);
        string Around(IReadOnlyList<EncodedMessage> messages) =>
            (from > 0 ? "… " : "") + SubscribeCall.Describe(messages.Skip(from).Take(10)) + (messages.Count > from + 10 ? " …" : "");
        Assert.Fail(
            $"{what}: {actual.Count} messages where {expected.Count} were expected; the first difference is at {first}."
            + $"{Environment.NewLine}expected [{Around(expected)}]{Environment.NewLine}actual   [{Around(actual)}]");
    }
}

/// <summary>
/// A client subscribed to <paramref name="Keys"/> that reconnects once per cycle while publishers race it, on a
/// node where <paramref name="Bystanders"/> other subscribers hold the same keys (a busy channel: adding a
/// subscriber to it takes a while, which widens any window a subscribe leaves open).
/// </summary>
internal sealed record SeamScenario(string[] Keys, int Bystanders, Publish[] Prelude, SeamCycle[] Cycles)
{
    public override string ToString() =>
        $"keys [{string.Join(", ", Keys)}], {Bystanders} bystanders, prelude [{string.Join("; ", Prelude.Select(p => p.ToString()))}], "
        + string.Join(", ", Cycles.Select(c => c.ToString()));
}

/// <summary>
/// One disconnect: <paramref name="Gap"/> is published while the client is gone, then it reconnects from its
/// last position while one racing publisher per entry of <paramref name="Racers"/> publishes to that channel
/// and the next ones in <see cref="RecoveryWorld.Channels"/>, from before the subscribe until after it.
/// </summary>
internal sealed record SeamCycle(Publish[] Gap, string[] Racers)
{
    public override string ToString() =>
        $"cycle(gap [{string.Join("; ", Gap.Select(p => p.ToString()))}], racers from [{string.Join(", ", Racers)}])";
}

internal static class SeamGen
{
    public static Arbitrary<SeamScenario> Scenarios() =>
        Arb.From(
            from count in Gen.Choose(1, 3)
            from shuffled in Gen.Shuffle(RecoveryWorld.CoveredKeys)
            from bystanders in Gen.Elements(0, 2000)
            from prelude in Gen.ArrayOf(Publishes(), 3)
            from cycles in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(Cycle(), n))
            select new SeamScenario([.. shuffled.Take(count)], bystanders, prelude, cycles),
            Shrink);

    private static Gen<Publish> Publishes() =>
        from channel in Gen.Elements(RecoveryWorld.Channels)
        from count in Gen.Choose(1, 4)
        select new Publish(channel, count);

    private static Gen<SeamCycle> Cycle() =>
        from gapLength in Gen.Choose(0, 4)
        from gap in Gen.ArrayOf(Publishes(), gapLength)
        from racerCount in Gen.Choose(1, 2)
        from racers in Gen.ArrayOf(Gen.Elements(RecoveryWorld.Channels), racerCount)
        select new SeamCycle(gap, racers);

    private static IEnumerable<SeamScenario> Shrink(SeamScenario scenario)
    {
        for (var i = 0; i < scenario.Cycles.Length && scenario.Cycles.Length > 1; i++)
        {
            yield return scenario with { Cycles = [.. scenario.Cycles[..i], .. scenario.Cycles[(i + 1)..]] };
        }
        if (scenario.Prelude.Length > 0)
        {
            yield return scenario with { Prelude = [] };
        }
        if (scenario.Bystanders > 0)
        {
            yield return scenario with { Bystanders = 0 };
        }
        for (var i = 0; i < scenario.Keys.Length && scenario.Keys.Length > 1; i++)
        {
            yield return scenario with { Keys = [.. scenario.Keys.Where((_, j) => j != i)] };
        }
        for (var i = 0; i < scenario.Cycles.Length; i++)
        {
            var cycle = scenario.Cycles[i];
            if (cycle.Gap.Length > 0)
            {
                yield return scenario with { Cycles = [.. scenario.Cycles[..i], cycle with { Gap = [] }, .. scenario.Cycles[(i + 1)..]] };
            }
            if (cycle.Racers.Length > 1)
            {
                yield return scenario with { Cycles = [.. scenario.Cycles[..i], cycle with { Racers = cycle.Racers[..1] }, .. scenario.Cycles[(i + 1)..]] };
            }
        }
    }
}

/// <summary>
/// Plays a <see cref="SeamScenario"/>: the real engine with ample retention, one client, and at each reconnect
/// publisher threads that are already publishing when the client subscribes and stop only after it has.
/// </summary>
internal sealed class RacingReconnect : IDisposable
{
    // Enough for the subscribe to land in the middle of the race on a busy machine, few enough to stay fast.
    private const int MaxPerRacer = 2000;
    private const int AfterSubscribed = 20;

    private readonly SeamScenario _scenario;
    private readonly Harness _harness;
    private readonly List<EncodedMessage> _published = [];
    private readonly RecordingSubscriber _client = new();

    public RacingReconnect(SeamScenario scenario)
    {
        _scenario = scenario;
        var ample = Retention.Ample;
        _harness = new Harness(new HalleyOptions
        {
            MaxQueue = ample.MaxRecovered,
            History = new HistoryOptions
            {
                Channels = RecoveryWorld.Rules(ample.PatternSize, ample.NameSize, TimeSpan.FromSeconds(ample.TtlSeconds)),
                MaxRecoveredMessages = ample.MaxRecovered,
            },
        });
    }

    public IReadOnlyList<EncodedMessage> Published => _published;

    public List<Recovery> Recoveries { get; } = [];

    public long Start { get; private set; }

    /// <summary>How many messages the racing publishers sent in all.</summary>
    public int Raced { get; private set; }

    private MessageHub Engine => _harness.Engine;

    public List<EncodedMessage> Run()
    {
        for (var i = 0; i < _scenario.Bystanders; i++)
        {
            var bystander = new Bystander();
            foreach (var key in _scenario.Keys)
            {
                Engine.Subscribe(key, bystander);
            }
        }
        var position = Engine.Subscribe(_scenario.Keys, _client, null).Position;
        Start = position.Offset;
        Publish(_scenario.Prelude, _published);
        var seen = 0;
        foreach (var cycle in _scenario.Cycles)
        {
            foreach (var key in _scenario.Keys)
            {
                Assert.True(Engine.Unsubscribe(key, _client));
            }
            foreach (var message in _client.From(seen))
            {
                position = message.Position is { } p && p.Offset > position.Offset ? p : position;
            }
            Publish(cycle.Gap, _published);
            // What arrives from here on, replayed or live, moves the client's position on from the reply's.
            seen = _client.Count;
            var recovery = ReconnectWhileRacing(cycle.Racers, position);
            Recoveries.Add(recovery);
            position = recovery.Position;
        }
        return _client.From(0);
    }

    public void Dispose() => _harness.Dispose();

    private sealed class Bystander : ISubscriber
    {
        public void Deliver(EncodedMessage message)
        {
        }
    }

    private Recovery ReconnectWhileRacing(string[] racers, StreamPosition since)
    {
        var started = 0;
        var subscribed = false;
        var sent = racers.Select(_ => new List<EncodedMessage>()).ToArray();
        var failures = new Exception?[racers.Length];
        var threads = racers.Select((first, t) => new Thread(() =>
        {
            try
            {
                var channels = RecoveryWorld.Channels;
                var next = Array.IndexOf(channels, first);
                var after = 0;
                for (var i = 0; i < MaxPerRacer && after < AfterSubscribed; i++)
                {
                    Publish([new Publish(channels[next++ % channels.Length], 1)], sent[t]);
                    if (i == 0)
                    {
                        Interlocked.Increment(ref started);
                    }
                    if (Volatile.Read(ref subscribed))
                    {
                        after++;
                    }
                }
            }
            catch (Exception e)
            {
                failures[t] = e;
                Interlocked.Increment(ref started);
            }
        })
        { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }
        // Subscribe only once every racer is publishing: the subscribe lands inside the race, not before it.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref started) == racers.Length, TimeSpan.FromSeconds(10)), "The racing publishers did not start.");
        var recovery = Engine.Subscribe(_scenario.Keys, _client, since);
        Volatile.Write(ref subscribed, true);
        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(10)), "A racing publisher did not finish.");
        }
        foreach (var failure in failures)
        {
            if (failure is not null)
            {
                throw new InvalidOperationException("A racing publisher failed.", failure);
            }
        }
        foreach (var list in sent)
        {
            var offsets = list.Where(m => m.Position is not null).Select(m => m.Position!.Value.Offset).ToList();
            Assert.True(offsets.SequenceEqual(offsets.Order()), "A publisher's messages take offsets in the order it published them.");
            _published.AddRange(list);
            Raced += list.Count;
        }
        return recovery;
    }

    private void Publish(IEnumerable<Publish> publishes, List<EncodedMessage> into)
    {
        foreach (var publish in publishes)
        {
            for (var i = 0; i < publish.Count; i++)
            {
                var sent = Engine.PublishAsync(publish.Channel, "{}"u8.ToArray(), default, CancellationToken.None);
                if (!sent.IsCompletedSuccessfully)
                {
                    throw new InvalidOperationException("The in-memory broker delivers on the publisher's thread.");
                }
                into.Add(sent.Result);
            }
        }
    }
}
