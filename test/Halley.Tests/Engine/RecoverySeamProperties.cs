using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// The issue's promise, checked on the real <see cref="MessageHub"/> (over the in-memory engine) over random scenarios: "within the
/// retention window, a client that reconnects receives every message it missed, in order, exactly once"; and
/// beyond it, the client is told so and gets nothing partial.
/// </summary>
/// <remarks>
/// A failing case prints the shrunk scenario (a short list of steps) and the subscribe calls it made. The
/// properties were each seen to fail against a deliberately broken engine; the commit that added them lists how.
/// </remarks>
public abstract class RecoverySeamProperties
{
    /// <summary>Makes the engine the properties run on: each implementation of the contract derives and says how.</summary>
    protected abstract IMessageEngine CreateEngine(Microsoft.Extensions.Options.IOptions<HalleyOptions> options, TimeProvider time);

    [Property(MaxTest = 300)]
    public Property WithinRetention_EveryReconnectRecovers_AndTheClientGetsEachMessageOnceInOrder() =>
        Prop.ForAll(ScenarioGen.WithinRetention(), scenario =>
        {
            using var run = new ReconnectingSubscriber(scenario, CreateEngine);
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
            using var run = new ReconnectingSubscriber(scenario, CreateEngine);
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
                using var run = new ReconnectingSubscriber(scenario, CreateEngine);
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
                using var run = new ReconnectingSubscriber(scenario, CreateEngine);
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
                using var run = new ReconnectingSubscriber(scenario, CreateEngine);
                run.Run();
                return run.Calls.Count(c => c.Expected.OutOfOrder && !c.Outcome.Recovered);
            });

        Assert.True(refused >= 5, $"Only {refused} recoveries were refused because a held channel's older messages would have come after newer ones.");
    }

    [Property(MaxTest = 60)]
    public Property Seam_PublishersRacingAReconnect_NeitherLoseNorDoubleAMessage() =>
        Prop.ForAll(SeamGen.Scenarios(), scenario =>
        {
            using var run = new RacingReconnect(scenario, CreateEngine);
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
            SameMessages(published, received, $"received by the client (racing publishers sent {run.Raced} messages: {run.DescribeRaces()})");
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
    // Each racer publishes until it has begun this many messages after the subscribe returned: there is no budget
    // it could spend before the subscribe, so every run races it.
    private const int AfterSubscribed = 20;

    // Only a subscribe that never comes (or never returns) gets a racer this far, and then the property fails. On a
    // busy 2-core machine racers were seen to publish up to 16,000 messages before the subscribe began. Two racers
    // at the cap, plus a gap, fit in the retention below, so reaching it is reported as such, not as a failed recovery.
    private const int SafetyCap = 200_000;
    private const int Retained = 1_000_000;

    private static readonly TimeSpan RacerTimeout = TimeSpan.FromSeconds(30);

    private readonly SeamScenario _scenario;
    private readonly Harness _harness;
    private readonly List<EncodedMessage> _published = [];
    private readonly RecordingSubscriber _client = new();

    public RacingReconnect(SeamScenario scenario, Func<Microsoft.Extensions.Options.IOptions<HalleyOptions>, TimeProvider, IMessageEngine> engine)
    {
        _scenario = scenario;
        _harness = new Harness(new HalleyOptions
        {
            MaxQueue = Retained,
            History = new HistoryOptions
            {
                Channels = RecoveryWorld.Rules(Retained, Retained, TimeSpan.FromSeconds(Retention.Ample.TtlSeconds)),
                MaxRecoveredMessages = Retained,
            },
        }, engine: engine);
    }

    public IReadOnlyList<EncodedMessage> Published => _published;

    public List<Recovery> Recoveries { get; } = [];

    public long Start { get; private set; }

    /// <summary>How many messages the racing publishers sent in all.</summary>
    public int Raced { get; private set; }

    /// <summary>Per reconnect, what each racing publisher published before, across and after the subscribe.</summary>
    public List<RacerTally[]> Races { get; } = [];

    public string DescribeRaces() =>
        string.Join("; ", Races.Select((race, i) => $"reconnect {i + 1}: " + string.Join(", ", race.Select(r => $"[{r}]"))));

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
        var tally = new RacerTally[racers.Length];
        var sent = racers.Select(_ => new List<EncodedMessage>()).ToArray();
        var failures = new Exception?[racers.Length];
        using var publishing = new CountdownEvent(racers.Length);
        var subscribing = false;
        var subscribed = false;
        var abandoned = false;
        var threads = racers.Select((first, t) => new Thread(() =>
        {
            var signalled = false;
            try
            {
                var channels = RecoveryWorld.Channels;
                var next = Array.IndexOf(channels, first);
                while (!Volatile.Read(ref abandoned))
                {
                    // Read before the publish begins: true means the subscribe had returned before it.
                    var afterSubscribe = Volatile.Read(ref subscribed);
                    if (afterSubscribe && tally[t].After >= AfterSubscribed)
                    {
                        break;
                    }
                    if (tally[t].Total >= SafetyCap)
                    {
                        tally[t].Capped = true;
                        break;
                    }
                    Publish([new Publish(channels[next++ % channels.Length], 1)], sent[t]);
                    // Read after the publish returned: false means it was over before the subscribe began.
                    var beforeSubscribe = !Volatile.Read(ref subscribing);
                    tally[t].Count(beforeSubscribe, afterSubscribe);
                    if (!signalled)
                    {
                        signalled = true;
                        publishing.Signal();
                    }
                }
            }
            catch (Exception e)
            {
                failures[t] = e;
                if (!signalled)
                {
                    publishing.Signal();
                }
            }
        })
        { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }
        Recovery recovery;
        try
        {
            // Subscribe only once every racer is publishing: the subscribe lands inside the race, not before it.
            Assert.True(publishing.Wait(RacerTimeout), "The racing publishers did not start.");
            Volatile.Write(ref subscribing, true);
            recovery = Engine.Subscribe(_scenario.Keys, _client, since);
            Volatile.Write(ref subscribed, true);
        }
        catch
        {
            Volatile.Write(ref abandoned, true);
            foreach (var thread in threads)
            {
                thread.Join(RacerTimeout);
            }
            throw;
        }
        foreach (var thread in threads)
        {
            Assert.True(thread.Join(RacerTimeout), "A racing publisher did not finish.");
        }
        foreach (var failure in failures)
        {
            if (failure is not null)
            {
                throw new InvalidOperationException("A racing publisher failed.", failure);
            }
        }
        // The seam is exercised on every run: each racer was publishing before the subscribe and went on after it.
        for (var t = 0; t < racers.Length; t++)
        {
            Assert.False(tally[t].Capped,
                $"Racing publisher {t + 1} reached the safety cap of {SafetyCap} messages ({tally[t]}) without publishing {AfterSubscribed} after the subscribe returned.");
            Assert.True(tally[t].Before >= 1 && tally[t].After >= AfterSubscribed,
                $"Racing publisher {t + 1} did not race the subscribe ({tally[t]}): it must publish at least 1 message before it and {AfterSubscribed} after it.");
        }
        Races.Add([.. tally]);
        // Racing publishers may leave the last of their messages to be handed on by the thread pool (a publisher
        // hands on a bounded number of others' messages): wait until the node has them all, then compare.
        var newest = sent.SelectMany(l => l).Where(m => m.Position is not null).Select(m => m.Position!.Value.Offset).DefaultIfEmpty(0).Max();
        Assert.True(SpinWait.SpinUntil(() => Engine.Top.Offset >= newest, RacerTimeout), $"The node was not handed every raced message (newest {newest}, cursor {Engine.Top}).");
        foreach (var list in sent)
        {
            var offsets = list.Where(m => m.Position is not null).Select(m => m.Position!.Value.Offset).ToList();
            Assert.True(offsets.SequenceEqual(offsets.Order()), "A publisher's messages take offsets in the order it published them.");
            _published.AddRange(list);
            Raced += list.Count;
        }
        return recovery;
    }

    /// <summary>
    /// One racer's messages: <see cref="Before"/> returned before the subscribe began, <see cref="After"/> began after
    /// it returned, <see cref="Across"/> neither (they may have overlapped it, or waited for its lock).
    /// </summary>
    internal struct RacerTally
    {
        public int Before;
        public int Across;
        public int After;
        public bool Capped;

        public readonly int Total => Before + Across + After;

        public void Count(bool beforeSubscribe, bool afterSubscribe)
        {
            if (afterSubscribe)
            {
                After++;
            }
            else if (beforeSubscribe)
            {
                Before++;
            }
            else
            {
                Across++;
            }
        }

        public override readonly string ToString() => $"{Before} before the subscribe, {Across} across it, {After} after it";
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

/// <summary>The recovery properties on the in-memory engine.</summary>
public sealed class InMemoryRecoverySeamProperties : RecoverySeamProperties
{
    protected override IMessageEngine CreateEngine(Microsoft.Extensions.Options.IOptions<HalleyOptions> options, TimeProvider time) => Harness.InMemory(options, time);
}
