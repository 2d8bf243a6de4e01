using FsCheck;
using FsCheck.Fluent;
using Halley.Engine;

namespace Halley.Tests.Engine;

/// <summary>
/// The little world the recovery properties play in: which channels exist, which keep a history, and which
/// names and patterns a client may subscribe to. Small on purpose, so random steps keep hitting the same
/// channels through overlapping keys.
/// </summary>
internal static class RecoveryWorld
{
    /// <summary>Every channel a step publishes to: kept by the /s/** pattern, by a name, or not at all.</summary>
    public static readonly string[] Channels = ["/s/a", "/s/b", "/s/c/d", "/h/x", "/h/y", "/n/x"];

    /// <summary>Keys whose channels all keep a history, overlapping on purpose (/s/a, /s/* and /s/** all reach /s/a).</summary>
    public static readonly string[] CoveredKeys = ["/s/a", "/s/b", "/s/*", "/s/**", "/h/x"];

    /// <summary>Keys that reach a channel with no history (/h/y, /n/x): a recovery over them cannot be complete.</summary>
    public static readonly string[] UncoveredKeys = ["/h/*", "/n/x"];

    /// <summary>
    /// The rules: /s/** keeps <paramref name="patternSize"/> messages, except /s/b, whose own rule keeps
    /// <paramref name="nameSize"/> (a name beats a pattern), and /h/x keeps <paramref name="nameSize"/>.
    /// </summary>
    public static Dictionary<string, HistoryRule> Rules(int patternSize, int nameSize, TimeSpan ttl) => new(StringComparer.Ordinal)
    {
        ["/s/**"] = new HistoryRule { Size = patternSize, Ttl = ttl },
        ["/s/b"] = new HistoryRule { Size = nameSize, Ttl = ttl },
        ["/h/x"] = new HistoryRule { Size = nameSize, Ttl = ttl },
    };

    /// <summary>Most messages the channel keeps under <see cref="Rules"/>, null when it keeps none.</summary>
    public static int? SizeOf(string channel, int patternSize, int nameSize) => channel switch
    {
        "/s/b" or "/h/x" => nameSize,
        _ when channel.StartsWith("/s/", StringComparison.Ordinal) => patternSize,
        _ => null,
    };

    /// <summary>Whether every channel <paramref name="key"/> can reach keeps a history under <see cref="Rules"/>.</summary>
    public static bool Covers(string key) => key.StartsWith("/s/", StringComparison.Ordinal) || key == "/h/x";

    /// <summary>
    /// Bayeux matching, written out again here so the properties do not take the engine's word for which
    /// channels a key reaches: /x/* is one more segment, /x/** any number of them.
    /// </summary>
    public static bool Matches(string key, string channel)
    {
        var keySegments = key.Split('/');
        var channelSegments = channel.Split('/');
        for (var i = 0; i < keySegments.Length; i++)
        {
            if (keySegments[i] == "**")
            {
                return channelSegments.Length > i;
            }
            if (i >= channelSegments.Length || (keySegments[i] != "*" && keySegments[i] != channelSegments[i]))
            {
                return false;
            }
        }
        return keySegments.Length == channelSegments.Length;
    }

    public static bool MatchesAny(IEnumerable<string> keys, string channel) => keys.Any(k => Matches(k, channel));

    /// <summary>The rule (its configured name or pattern) that applies to <paramref name="channel"/> under <see cref="Rules"/>; null when none.</summary>
    public static string? RuleOf(string channel) => channel switch
    {
        "/s/b" or "/h/x" => channel,
        _ when channel.StartsWith("/s/", StringComparison.Ordinal) => "/s/**",
        _ => null,
    };

    /// <summary>The rules that apply to some channel <paramref name="key"/> matches (in this world, every channel is in <see cref="Channels"/>).</summary>
    public static IEnumerable<string> RulesReachedBy(string key) =>
        Channels.Where(c => Matches(key, c)).Select(RuleOf).OfType<string>().Distinct();
}

/// <summary>Where a reconnecting client says it resumes from.</summary>
internal enum Resume
{
    /// <summary>The last position it saw (a message's, or its last subscribe reply's).</summary>
    LastSeen,

    /// <summary>The same offset under another engine's epoch: what it saw is gone (a restart).</summary>
    OtherEpoch,

    /// <summary>An offset this engine never reached.</summary>
    BeyondTop,

    /// <summary>No position: a plain subscribe.</summary>
    None,
}

/// <summary>One thing that happens in a scenario. Steps that make no sense in the state they meet are no-ops, so any sublist is a valid scenario (shrinking removes steps freely).</summary>
internal abstract record Step;

/// <summary>A publisher sends <paramref name="Count"/> messages to <paramref name="Channel"/>.</summary>
internal sealed record Publish(string Channel, int Count) : Step
{
    public override string ToString() => $"publish {Count} to {Channel}";
}

/// <summary>The client drops its subscriptions (its connection or session is gone), remembering the last position it saw.</summary>
internal sealed record Disconnect : Step
{
    public override string ToString() => "disconnect";
}

/// <summary>
/// The client subscribes again to its keys from a position. With <paramref name="Split"/> &gt; 0 it does so in two
/// subscribes (keys before the split, then the rest, while it holds the first), with <paramref name="Between"/>
/// published in between; the first resumes from <paramref name="FirstFrom"/> when given (e.g. afresh: then the
/// second, from an older position, must replay what the first's channels missed before they were held).
/// </summary>
internal sealed record Reconnect(Resume From, int Split, Publish[] Between, Resume? FirstFrom = null) : Step
{
    public override string ToString() =>
        $"reconnect from {From}"
        + (Split > 0 ? $", split after {Split} key(s){(FirstFrom is { } first ? $" (the first from {first})" : "")}, between: [{string.Join("; ", Between.Select(p => p.ToString()))}]" : "");
}

/// <summary>The client reads what the server queued for it (a held connect returns); the engine's own subscribers need no such step.</summary>
internal sealed record Drain : Step
{
    public override string ToString() => "drain";
}

/// <summary>Time moves on by <paramref name="Seconds"/> (for the rules' TTL).</summary>
internal sealed record Advance(int Seconds) : Step
{
    public override string ToString() => $"advance {Seconds}s";
}

/// <summary>The shared sweep lets go of expired history.</summary>
internal sealed record Sweep : Step
{
    public override string ToString() => "sweep";
}

/// <summary>How much the engine keeps in a scenario.</summary>
internal sealed record Retention(int PatternSize, int NameSize, int MaxRecovered, int TtlSeconds)
{
    /// <summary>Far more than any scenario publishes: within retention, always.</summary>
    public static readonly Retention Ample = new(100_000, 100_000, 100_000, 3600);

    public override string ToString() => $"/s/** keeps {PatternSize}, /s/b and /h/x keep {NameSize}, ttl {TtlSeconds}s, at most {MaxRecovered} recovered";
}

/// <summary>A client subscribed to <paramref name="Keys"/> from the start, then <paramref name="Steps"/>.</summary>
internal sealed record Scenario(Retention Retention, string[] Keys, Step[] Steps)
{
    public override string ToString() =>
        $"{Retention}; keys [{string.Join(", ", Keys)}]:{Environment.NewLine}  "
        + string.Join(Environment.NewLine + "  ", Steps.Select(s => s.ToString()));
}

/// <summary>Generators and shrinkers of <see cref="Scenario"/>s.</summary>
internal static class ScenarioGen
{
    /// <summary>Scenarios within retention: covered keys, own positions, no time passing, no sweep.</summary>
    public static Arbitrary<Scenario> WithinRetention() =>
        Arb.From(
            from keys in KeysFrom(RecoveryWorld.CoveredKeys)
            from steps in Steps(withTime: false, resumeFrom: Gen.Constant(Resume.LastSeen), keyCount: keys.Length)
            select new Scenario(Retention.Ample, keys, steps),
            Shrink);

    /// <summary>Like <see cref="WithinRetention"/>, for a Bayeux client that reads its queue only now and then.</summary>
    /// <remarks>A split reconnect may subscribe its first keys afresh: what only they reach is then lost by design.</remarks>
    public static Arbitrary<Scenario> WithinRetentionWithDrains() =>
        Arb.From(
            from keys in KeysFrom(RecoveryWorld.CoveredKeys)
            from steps in Steps(withTime: false, resumeFrom: Gen.Constant(Resume.LastSeen), keyCount: keys.Length, withDrain: true, firstFrom: FirstAfresh(1, 2))
            select new Scenario(Retention.Ample, keys, steps),
            Shrink);

    /// <summary>
    /// Scenarios where retention can run out: small sizes and limits, time passing, sweeps, uncovered keys,
    /// positions from another epoch or beyond the top.
    /// </summary>
    public static Arbitrary<Scenario> AnyRetention() =>
        Arb.From(
            from patternSize in Gen.Choose(1, 12)
            from nameSize in Gen.Choose(1, 6)
            from maxRecovered in Gen.Choose(1, 24)
            from covered in KeysFrom(RecoveryWorld.CoveredKeys)
            from uncovered in Gen.Frequency((6, Gen.Constant(Array.Empty<string>())), (1, Gen.Elements(RecoveryWorld.UncoveredKeys).Select(k => new[] { k })))
            let keys = covered.Concat(uncovered).ToArray()
            from steps in Steps(
                withTime: true,
                resumeFrom: Gen.Frequency((12, Gen.Constant(Resume.LastSeen)), (1, Gen.Constant(Resume.OtherEpoch)), (1, Gen.Constant(Resume.BeyondTop)), (1, Gen.Constant(Resume.None))),
                keyCount: keys.Length,
                firstFrom: FirstAfresh(2, 3))
            select new Scenario(new Retention(patternSize, nameSize, maxRecovered, TtlSeconds: 10), keys, steps),
            Shrink);

    private static Gen<string[]> KeysFrom(string[] pool) =>
        from count in Gen.Choose(1, 3)
        from shuffled in Gen.Shuffle(pool.Distinct().ToArray())
        select shuffled.Take(count).ToArray();

    private static Gen<Publish> PublishGen() =>
        from channel in Gen.Elements(RecoveryWorld.Channels)
        from count in Gen.Frequency((4, Gen.Choose(1, 3)), (1, Gen.Choose(4, 12)))
        select new Publish(channel, count);

    /// <summary>
    /// For the first half of a split reconnect: the reconnect's position, or afresh <paramref name="afresh"/> times in
    /// <paramref name="outOf"/>. A key held from later than the position the second half resumes from is what a
    /// recovery must not take for "already received" (rare otherwise: it needs overlapping keys and a gap).
    /// </summary>
    private static Gen<Resume?> FirstAfresh(int afresh, int outOf) =>
        Gen.Frequency((outOf - afresh, Gen.Constant<Resume?>(null)), (afresh, Gen.Constant<Resume?>(Resume.None)));

    private static Gen<Step[]> Steps(bool withTime, Gen<Resume> resumeFrom, int keyCount, bool withDrain = false, Gen<Resume?>? firstFrom = null)
    {
        var reconnect =
            from resume in resumeFrom
            from split in keyCount > 1 ? Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1, keyCount - 1))) : Gen.Constant(0)
            from between in split > 0 ? Gen.ArrayOf(PublishGen(), 3) : Gen.Constant(Array.Empty<Publish>())
            from first in split > 0 && firstFrom is not null ? firstFrom : Gen.Constant<Resume?>(null)
            select (Step)new Reconnect(resume, split, between, first);
        var steps = new List<(int, Gen<Step>)>
        {
            (6, PublishGen().Select(p => (Step)p)),
            (2, Gen.Constant((Step)new Disconnect())),
            (2, reconnect),
        };
        if (withDrain)
        {
            steps.Add((3, Gen.Constant((Step)new Drain())));
        }
        if (withTime)
        {
            steps.Add((2, Gen.Choose(1, 12).Select(s => (Step)new Advance(s))));
            steps.Add((1, Gen.Constant((Step)new Sweep())));
        }
        return Gen.Sized(size => Gen.ArrayOf(Gen.Frequency(steps), Math.Max(4, size / 2)));
    }

    /// <summary>
    /// Smaller scenarios, most useful first: drop half the steps, then one step, then a key; then make a step
    /// simpler (one message instead of many, one subscribe instead of two, resume from the last position).
    /// </summary>
    public static IEnumerable<Scenario> Shrink(Scenario scenario)
    {
        var steps = scenario.Steps;
        if (steps.Length > 1)
        {
            yield return scenario with { Steps = steps[..(steps.Length / 2)] };
            yield return scenario with { Steps = steps[(steps.Length / 2)..] };
        }
        for (var i = 0; i < steps.Length; i++)
        {
            yield return scenario with { Steps = [.. steps[..i], .. steps[(i + 1)..]] };
        }
        for (var i = 0; i < scenario.Keys.Length && scenario.Keys.Length > 1; i++)
        {
            var keys = scenario.Keys.Where((_, j) => j != i).ToArray();
            yield return scenario with { Keys = keys, Steps = [.. steps.Select(s => s is Reconnect r && r.Split >= keys.Length ? r with { Split = 0, FirstFrom = null } : s)] };
        }
        for (var i = 0; i < steps.Length; i++)
        {
            foreach (var simpler in Simpler(steps[i]))
            {
                yield return scenario with { Steps = [.. steps[..i], simpler, .. steps[(i + 1)..]] };
            }
        }
    }

    private static IEnumerable<Step> Simpler(Step step)
    {
        switch (step)
        {
            case Publish { Count: > 1 } p:
                yield return p with { Count = 1 };
                yield return p with { Count = p.Count / 2 };
                break;
            case Reconnect r:
                if (r.Between.Length > 0)
                {
                    yield return r with { Between = [] };
                    for (var i = 0; i < r.Between.Length; i++)
                    {
                        yield return r with { Between = [.. r.Between[..i], .. r.Between[(i + 1)..]] };
                    }
                }
                if (r.FirstFrom is not null)
                {
                    yield return r with { FirstFrom = null };
                }
                if (r.Split > 0)
                {
                    yield return r with { Split = 0, Between = [], FirstFrom = null };
                }
                if (r.From != Resume.LastSeen)
                {
                    yield return r with { From = Resume.LastSeen };
                }
                break;
            case Advance { Seconds: > 1 } a:
                yield return a with { Seconds = a.Seconds / 2 };
                break;
        }
    }
}
