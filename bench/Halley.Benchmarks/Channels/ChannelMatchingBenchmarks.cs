using BenchmarkDotNet.Attributes;
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

    // Same depth, nothing subscribed under /other: six lookups, all misses.
    private const string Miss = "/other/room4/topic5/item6";

    private readonly SubscriptionIndex<object> _index = new();

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
    }

    /// <summary>The keys a publish to a 4-segment channel looks up (allocates the list and the pattern strings).</summary>
    [Benchmark]
    public int MatchingKeys() => ChannelName.MatchingKeys(Hit).Count;

    /// <summary>MatchingKeys plus one lookup per key, as MessageEngine does before fan-out; six keys hit.</summary>
    [Benchmark]
    public int MatchAndLookup() => Lookup(Hit);

    /// <summary>The same for a channel nobody subscribes to: what a publish into the void costs.</summary>
    [Benchmark]
    public int MatchAndLookupMiss() => Lookup(Miss);

    private int Lookup(string channel)
    {
        var found = 0;
        foreach (var key in ChannelName.MatchingKeys(channel))
        {
            found += _index.Get(key).Length;
        }
        return found;
    }
}
