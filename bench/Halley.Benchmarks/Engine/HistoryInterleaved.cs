using System.Diagnostics;
using System.Globalization;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// <c>--history-ab</c>: <see cref="HistoryBenchmarks"/>' two methods run in turn in one process, iteration by
/// iteration (off, on, on, off, …), so both see the same machine load, the same JIT state and the same heap. It
/// prints the median time per publish of each and their ratio, for N = 0 and 1,000.
/// </summary>
/// <remarks>
/// BenchmarkDotNet measures each method in a case of its own (its own setup, warmup and iterations), one after
/// the other; on a shared 2-core machine the two cases of a pair can see different conditions. Alternating
/// iterations cancels what drifts between them. Each iteration is set up as BenchmarkDotNet's are: queues drained
/// and a full collection first, then <see cref="HistoryBenchmarks.PublishesPerIteration"/> publishes timed.
/// </remarks>
internal static class HistoryInterleaved
{
    public const string Option = "--history-ab";
    private const int Rounds = 20;

    public static int Run()
    {
        Console.WriteLine($"History on vs off, interleaved: {Rounds} rounds of off, on, on, off; {HistoryBenchmarks.PublishesPerIteration:N0} publishes per iteration; median per publish");
        Console.WriteLine();
        Console.WriteLine("| N | history off | history on | on − off | ratio |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var n in new[] { 0, 1_000 })
        {
            var benchmarks = new HistoryBenchmarks { N = n };
            benchmarks.Setup();
            var off = new List<double>();
            var on = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                off.Add(Time(benchmarks, history: false));
                on.Add(Time(benchmarks, history: true));
                on.Add(Time(benchmarks, history: true));
                off.Add(Time(benchmarks, history: false));
            }
            benchmarks.Cleanup();
            var offMedian = Median(off);
            var onMedian = Median(on);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {n:N0} | {offMedian:N0} ns | {onMedian:N0} ns | {onMedian - offMedian:N0} ns | {onMedian / offMedian:F2} |"));
        }
        return 0;
    }

    /// <summary>One iteration: nanoseconds per publish.</summary>
    private static double Time(HistoryBenchmarks benchmarks, bool history)
    {
        benchmarks.DrainAll();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < HistoryBenchmarks.PublishesPerIteration; i++)
        {
            _ = history ? benchmarks.HistoryOn() : benchmarks.HistoryOff();
        }
        return clock.Elapsed.TotalNanoseconds / HistoryBenchmarks.PublishesPerIteration;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
