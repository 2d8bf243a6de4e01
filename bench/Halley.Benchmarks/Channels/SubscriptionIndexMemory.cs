using System.Globalization;
using Halley.Channels;

namespace Halley.Benchmarks.Channels;

/// <summary>
/// <c>--index-memory</c>: what <see cref="SubscriptionIndex{TSubscriber}"/> keeps alive per subscription, for the
/// shapes a server meets: a private channel per connection, rooms of 50, and one channel of 10,000 or 100,000. Not a
/// BenchmarkDotNet benchmark: BDN measures what an operation allocates, while this is what stays alive.
/// </summary>
/// <remarks>
/// The subscribers are allocated first; the live heap is measured with <see cref="GC.GetTotalMemory(bool)"/> (full,
/// blocking, compacting collections) before the index is built, after every key is filled, and again after churn
/// (as many steps per key as it has subscribers, each removing the subscriber that joined longest ago and adding
/// another, so a key that keeps tombstones or spare slots shows them). Median of <see cref="Repeats"/> runs.
/// Uses only <c>Add</c> and <c>Remove</c>, so it also builds against the index before issue 10.
/// <c>dotnet run -c Release --project bench/Halley.Benchmarks -- --index-memory</c>.
/// </remarks>
internal static class SubscriptionIndexMemory
{
    public const string Option = "--index-memory";

    private const int Repeats = 3;

    private static readonly (string Shape, int Keys, int PerKey)[] Shapes =
    [
        ("a private channel per connection", 10_000, 1),
        ("rooms", 100, 50),
        ("one channel", 1, 10_000),
        ("one channel", 1, 100_000),
    ];

    public static int Run()
    {
        Console.WriteLine($"SubscriptionIndex memory: live heap per subscription, median of {Repeats} runs (range)");
        Console.WriteLine($".NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| shape | keys × subscribers | filled, per subscription | after churn, per subscription |");
        Console.WriteLine("|---|---:|---:|---:|");
        Measure(100, 50); // warm-up: the JIT and the runtime's caches, outside any measurement
        foreach (var (shape, keys, perKey) in Shapes)
        {
            var runs = Enumerable.Range(0, Repeats).Select(_ => Measure(keys, perKey)).ToList();
            var subscriptions = (double)keys * perKey;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {shape} | {keys:N0} × {perKey:N0} | {Median(runs.Select(r => r.Filled)) / subscriptions:N1} B ({Range(runs.Select(r => r.Filled), subscriptions)}) "
                + $"| {Median(runs.Select(r => r.Churned)) / subscriptions:N1} B ({Range(runs.Select(r => r.Churned), subscriptions)}) |"));
        }
        return 0;
    }

    private static (long Filled, long Churned) Measure(int keys, int perKey)
    {
        var names = Enumerable.Range(0, keys).Select(k => $"/bench/rooms/r{k}").ToArray();
        // Per key perKey + 1 subscribers: all but one held; churn rotates through them.
        var pool = Enumerable.Range(0, keys).Select(_ => Enumerable.Range(0, perKey + 1).Select(_ => new object()).ToArray()).ToArray();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var index = new SubscriptionIndex<object>();
        for (var k = 0; k < keys; k++)
        {
            for (var i = 0; i < perKey; i++)
            {
                Require(index.Add(names[k], pool[k][i]));
            }
        }
        var filled = GC.GetTotalMemory(forceFullCollection: true) - before;
        for (var k = 0; k < keys; k++)
        {
            // The oldest leaves, the one left out joins: pool index i leaves at step i (mod perKey + 1).
            var left = perKey;
            for (var step = 0; step < perKey; step++)
            {
                Require(index.Remove(names[k], pool[k][step]) && index.Add(names[k], pool[k][left]));
                left = step;
            }
        }
        var churned = GC.GetTotalMemory(forceFullCollection: true) - before;
        Require(index.KeyCount == keys);
        GC.KeepAlive(index);
        GC.KeepAlive(pool);
        return (filled, churned);
    }

    private static void Require(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The index did not do what the measurement assumes.");
        }
    }

    private static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Range(IEnumerable<long> values, double subscriptions)
    {
        var list = values.ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{list.Min() / subscriptions:N1}–{list.Max() / subscriptions:N1}");
    }
}
