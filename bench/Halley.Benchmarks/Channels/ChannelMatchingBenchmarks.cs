using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Channels;

namespace Halley.Benchmarks.Channels;

/// <summary>
/// Finding who a publish goes to: the wildcard keys of a 4-segment channel, and one index lookup per key, against
/// an index holding 10,000 distinct names and patterns. The cost should depend on the channel's depth only.
/// </summary>
[MemoryDiagnoser]
public class ChannelMatchingBenchmarks
{
    public const int Subscriptions = 10_000;

    // Matches six keys, all present: itself, /tenant3/room4/topic5/*, and /**-patterns at every depth.
    private const string Hit = "/tenant3/room4/topic5/item6";

    // Same depth, nothing subscribed under /other: six lookups, five misses and the root pattern /** (which every
    // channel matches: one subscriber found).
    private const string Miss = "/other/room4/topic5/item6";

    private readonly SubscriptionIndex<object> _index = new();

    // What the last invocation of each method found, and how many ran since the setup: one store per operation
    // (no allocation), read in the global cleanup, outside the measurement.
    private Outcome _matchingKeys;
    private Outcome _matchAndLookup;
    private Outcome _matchAndLookupMiss;

    [GlobalSetup]
    public void Setup()
    {
        // 10 tenants x 10 rooms x 10 topics x 10 items. Every wildcard at every level (2,221 patterns:
        // /t/r/p/*, /t/r/p/**, /t/r/*, /t/r/**, /t/*, /t/**, /**), then concrete names up to 10,000 keys.
        var keys = new List<string>(Subscriptions) { "/**" };
        for (var t = 0; t < 10; t++)
        {
            keys.Add($"/tenant{t}/*");
            keys.Add($"/tenant{t}/**");
            for (var r = 0; r < 10; r++)
            {
                keys.Add($"/tenant{t}/room{r}/*");
                keys.Add($"/tenant{t}/room{r}/**");
                for (var p = 0; p < 10; p++)
                {
                    keys.Add($"/tenant{t}/room{r}/topic{p}/*");
                    keys.Add($"/tenant{t}/room{r}/topic{p}/**");
                }
            }
        }
        // Concrete names in reverse order so /tenant3/room4/topic5/item6 is among them.
        for (var i = 9_999; keys.Count < Subscriptions; i--)
        {
            keys.Add($"/tenant{i / 1000}/room{i / 100 % 10}/topic{i / 10 % 10}/item{i % 10}");
        }
        foreach (var key in keys)
        {
            if (!ChannelName.IsValid(key, out _) || !_index.Add(key, new object()))
            {
                throw new InvalidOperationException($"Bad or duplicate key {key}.");
            }
        }
        if (_index.KeyCount != Subscriptions || MatchAndLookup() != 6)
        {
            throw new InvalidOperationException("The index is not the one this benchmark describes.");
        }
        _matchAndLookup = default;
    }

    /// <summary>
    /// Checks, outside the measurement, that the method that ran did its work: six keys for the 4-segment channel,
    /// and six subscribers found under them for <see cref="Hit"/>, one (under /**) for <see cref="Miss"/>.
    /// </summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        Check(nameof(MatchingKeys), _matchingKeys, found: 0);
        Check(nameof(MatchAndLookup), _matchAndLookup, found: 6);
        Check(nameof(MatchAndLookupMiss), _matchAndLookupMiss, found: 1);
    }

    /// <summary>The keys a publish to a 4-segment channel looks up (allocates the list and the pattern strings).</summary>
    [Benchmark]
    public int MatchingKeys()
    {
        var keys = ChannelName.MatchingKeys(Hit).Count;
        _matchingKeys = new Outcome(keys, 0, _matchingKeys.Invocations + 1);
        return keys;
    }

    /// <summary>MatchingKeys plus one lookup per key, as MessageHub does before fan-out; six keys hit.</summary>
    [Benchmark]
    public int MatchAndLookup()
    {
        var (keys, found) = Lookup(Hit);
        _matchAndLookup = new Outcome(keys, found, _matchAndLookup.Invocations + 1);
        return found;
    }

    /// <summary>The same for a channel nobody subscribes to but /**: what a publish into the void costs.</summary>
    [Benchmark]
    public int MatchAndLookupMiss()
    {
        var (keys, found) = Lookup(Miss);
        _matchAndLookupMiss = new Outcome(keys, found, _matchAndLookupMiss.Invocations + 1);
        return found;
    }

    private static void Check(string method, Outcome outcome, int found)
    {
        if (outcome.Invocations == 0)
        {
            return; // not this case's method: each case runs on its own instance
        }
        var key = Verification.Key(nameof(ChannelMatchingBenchmarks), method);
        Verification.Require(key, outcome.Keys == 6 && outcome.Found == found,
            $"{outcome.Keys} keys and {outcome.Found} subscribers found, not 6 keys and {found}");
        Verification.Passed(key, $"{outcome.Invocations} matches of 6 keys, {found} subscribers found");
    }

    private (int Keys, int Found) Lookup(string channel)
    {
        var keys = 0;
        var found = 0;
        foreach (var key in ChannelName.MatchingKeys(channel))
        {
            keys++;
            found += _index.Get(key).Count;
        }
        return (keys, found);
    }

    private readonly record struct Outcome(int Keys, int Found, long Invocations);
}
