using System.Collections.Concurrent;
using System.Globalization;

namespace Halley.Benchmarks.Infrastructure;

/// <summary>
/// What each benchmark found when it checked, outside the measured region, that it did the work it is budgeted
/// for (every subscriber received every publish, the parse succeeded with the expected message count, the lookups
/// found the expected matches). A benchmark that skips its work allocates less and would pass the budget: the
/// budget check (<see cref="BudgetCheck"/>) fails a benchmark that recorded a failure, and one that recorded no pass.
/// </summary>
/// <remarks>
/// The record is a static of this process: the budget check runs the benchmarks in-process, so it sees what they
/// recorded. In a run of its own process (BenchmarkDotNet's default toolchain) a benchmark's failed verification
/// still throws, and BenchmarkDotNet reports the benchmark as failed. The first failure of a benchmark sticks: a
/// later pass does not erase it.
/// </remarks>
internal static class Verification
{
    private static readonly ConcurrentDictionary<string, Outcome> Outcomes = new(StringComparer.Ordinal);

    /// <summary>How budget.json and <see cref="BudgetCheck.Key"/> name a benchmark: <c>Class.Method</c> or <c>Class.Method(N=value)</c>.</summary>
    public static string Key(string type, string method, int? n = null) =>
        n is null ? $"{type}.{method}" : string.Create(CultureInfo.InvariantCulture, $"{type}.{method}(N={n})");

    /// <summary>Records that <paramref name="benchmark"/> did what it is budgeted for; <paramref name="what"/> says what was checked.</summary>
    public static void Passed(string benchmark, string what) =>
        Outcomes.AddOrUpdate(benchmark, new Outcome(true, what), (_, existing) => existing.Passed ? new Outcome(true, what) : existing);

    /// <summary>Records the failure and returns the exception to throw (so a run outside the budget check fails too).</summary>
    public static InvalidOperationException Failed(string benchmark, string failure)
    {
        Outcomes.AddOrUpdate(benchmark, new Outcome(false, failure), (_, existing) => existing.Passed ? new Outcome(false, failure) : existing);
        return new InvalidOperationException($"Verification failed: {benchmark}: {failure}");
    }

    /// <summary>Throws (and records) when <paramref name="condition"/> is false.</summary>
    public static void Require(string benchmark, bool condition, string failure)
    {
        if (!condition)
        {
            throw Failed(benchmark, failure);
        }
    }

    /// <summary>What <paramref name="benchmark"/> recorded, or null when it recorded nothing.</summary>
    public static Outcome? Find(string benchmark) => Outcomes.TryGetValue(benchmark, out var outcome) ? outcome : null;

    /// <param name="Passed">Whether the benchmark did its work.</param>
    /// <param name="Detail">What was checked, or what was wrong.</param>
    public sealed record Outcome(bool Passed, string Detail);
}
