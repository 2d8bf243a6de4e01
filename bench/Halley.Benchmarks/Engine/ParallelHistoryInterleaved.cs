using System.Diagnostics;
using System.Globalization;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// <c>--parallel-ab</c>: <see cref="ParallelHistoryBenchmarks"/>' two methods run in turn in one process, iteration
/// by iteration (one thread, two threads, two threads, one thread, …), so both see the same machine load. It prints
/// the median and the fastest time per publish of each, their ratios, and the median of the ratios of neighbouring
/// iterations; then the same for a control, the engine-free part of the same publishes (encoding the event), which
/// shows what a second thread can gain on the machine at that moment.
/// </summary>
/// <remarks>
/// BenchmarkDotNet measures each method in a case of its own, one after the other; on a shared 2-core machine whose
/// load swings from 2 to 30 runnable threads within a minute, the two cases of a pair meet different conditions
/// and the ratio column says more about the load than about the engine. Each iteration is set up as
/// BenchmarkDotNet's are (queues drained, verified and a full collection first, in
/// <see cref="ParallelHistoryBenchmarks.DrainAll"/>), then <see cref="ParallelHistoryBenchmarks.InvocationsPerIteration"/>
/// invocations timed.
/// </remarks>
internal static class ParallelHistoryInterleaved
{
    public const string Option = "--parallel-ab";
    private const int Rounds = 40;

    public static int Run()
    {
        const int publishes = ParallelHistoryBenchmarks.InvocationsPerIteration * ParallelHistoryBenchmarks.PublishesPerInvocation;
        Console.WriteLine($"Publishes to {ParallelHistoryBenchmarks.Channels} history channels, one thread vs two, interleaved: {Rounds} rounds of 1, 2, 2, 1; {publishes:N0} publishes per iteration; per publish");
        var benchmarks = new ParallelHistoryBenchmarks();
        benchmarks.Setup();
        var one = new List<double>();
        var two = new List<double>();
        var pairs = new List<double>();
        var controlOne = new List<double>();
        var controlTwo = new List<double>();
        var controlPairs = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            var a = Time(benchmarks, twoThreads: false);
            var b = Time(benchmarks, twoThreads: true);
            var c = Time(benchmarks, twoThreads: true);
            var d = Time(benchmarks, twoThreads: false);
            one.Add(a);
            two.Add(b);
            two.Add(c);
            one.Add(d);
            pairs.Add(b / a);
            pairs.Add(c / d);
            a = Time(benchmarks.ControlOneThread);
            b = Time(benchmarks.ControlTwoThreads);
            c = Time(benchmarks.ControlTwoThreads);
            d = Time(benchmarks.ControlOneThread);
            controlOne.Add(a);
            controlTwo.Add(b);
            controlTwo.Add(c);
            controlOne.Add(d);
            controlPairs.Add(b / a);
            controlPairs.Add(c / d);
        }
        benchmarks.Cleanup();
        Console.WriteLine();
        Console.WriteLine("| | one thread | two threads | two ÷ one |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| median | {Median(one):N0} ns | {Median(two):N0} ns | {Median(two) / Median(one):F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| fastest | {one.Min():N0} ns | {two.Min():N0} ns | {two.Min() / one.Min():F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| median of neighbouring pairs' ratios ({pairs.Count}) | | | {Median(pairs):F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| control (encode only, no engine): median | {Median(controlOne):N0} ns | {Median(controlTwo):N0} ns | {Median(controlTwo) / Median(controlOne):F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| control: fastest | {controlOne.Min():N0} ns | {controlTwo.Min():N0} ns | {controlTwo.Min() / controlOne.Min():F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| control: median of neighbouring pairs' ratios ({controlPairs.Count}) | | | {Median(controlPairs):F2} |"));
        return 0;
    }

    /// <summary>One iteration of the control: nanoseconds per message.</summary>
    private static double Time(Action invocation)
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ParallelHistoryBenchmarks.InvocationsPerIteration; i++)
        {
            invocation();
        }
        return clock.Elapsed.TotalNanoseconds / (ParallelHistoryBenchmarks.InvocationsPerIteration * ParallelHistoryBenchmarks.PublishesPerInvocation);
    }

    /// <summary>One iteration: nanoseconds per publish.</summary>
    private static double Time(ParallelHistoryBenchmarks benchmarks, bool twoThreads)
    {
        benchmarks.DrainAll();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ParallelHistoryBenchmarks.InvocationsPerIteration; i++)
        {
            if (twoThreads)
            {
                benchmarks.TwoThreads();
            }
            else
            {
                benchmarks.OneThread();
            }
        }
        return clock.Elapsed.TotalNanoseconds / (ParallelHistoryBenchmarks.InvocationsPerIteration * ParallelHistoryBenchmarks.PublishesPerInvocation);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
