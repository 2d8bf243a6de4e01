using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Halley.Benchmarks.Infrastructure;

/// <summary>
/// The allocation budget: runs the benchmarks with a short job, reads the bytes BenchmarkDotNet's memory
/// diagnoser reports per operation, and compares each with budget.json. Time is not checked: on a shared
/// machine it is noise, while allocated bytes per operation are deterministic.
/// </summary>
/// <remarks>
/// It checks both ways: every benchmark that ran needs an entry, and every entry a result (a renamed or lost
/// benchmark is a failed row, not a row fewer). Every result also needs a passed <see cref="Verification"/>: a
/// benchmark that skipped its work (a publish that reached nobody, a parse that failed early) allocates less,
/// and must not read as within budget.
/// </remarks>
internal static class BudgetCheck
{
    public const string Option = "--check-budget";
    private const string BudgetOption = "--budget";

    public static int Run(BenchmarkSwitcher switcher, string[] args)
    {
        var budgetPath = Path.Combine(AppContext.BaseDirectory, "budget.json");
        var forwarded = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == Option)
            {
                continue;
            }
            if (args[i] == BudgetOption && i + 1 < args.Length)
            {
                budgetPath = args[++i];
                continue;
            }
            forwarded.Add(args[i]);
        }
        var userFilter = forwarded.Contains("--filter", StringComparer.Ordinal);
        if (!userFilter)
        {
            forwarded.AddRange(["--filter", "*"]);
        }

        Dictionary<string, long> budget;
        try
        {
            budget = ReadBudget(budgetPath);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException)
        {
            Console.Error.WriteLine($"budget: cannot read {budgetPath}: {e.Message}");
            return 2;
        }

        // Allocations do not need many iterations to be exact, only warmed-up (tier-1) code: a few warmup and
        // measured iterations are enough. In-process avoids generating and building a project per run.
        var job = Job.ShortRun
            .WithWarmupCount(4)
            .WithIterationCount(4)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("BudgetCheck");
        var config = ManualConfig.Create(DefaultConfig.Instance.WithArtifactsPath(Program.DefaultArtifactsPath))
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.JoinSummary);

        var summaries = switcher.Run([.. forwarded], config).ToList();
        var reports = summaries.SelectMany(s => s.Reports).ToList();
        var results = new Dictionary<string, BenchmarkReport>(StringComparer.Ordinal);
        foreach (var report in reports)
        {
            results[Key(report.BenchmarkCase)] = report;
        }

        var failures = new List<string>();
        var rows = new List<(string Name, string Measured, string Limit, string Verdict)>();
        // Every result needs a budget entry, a measurement within it, and a passed verification.
        foreach (var (name, report) in results)
        {
            var measured = report.Success ? report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) : null;
            var verification = Verification.Find(name);
            var hasLimit = budget.TryGetValue(name, out var limit);
            string verdict;
            // A failed verification comes first: it throws, and BenchmarkDotNet then reports no measurement when it
            // was thrown in an iteration cleanup, but reports the measurement as if nothing happened when it was
            // thrown in a global cleanup (it only prints the error).
            if (verification is { Passed: false })
            {
                verdict = $"FAILED: did not do its work: {verification.Detail}";
                failures.Add($"{name}: verification failed: {verification.Detail}");
            }
            else if (measured is null)
            {
                verdict = "FAILED: no allocation measurement (did the benchmark run?)";
                failures.Add($"{name}: no allocation measurement");
            }
            else if (verification is null)
            {
                verdict = "FAILED: not verified (the benchmark recorded no check that it did its work)";
                failures.Add($"{name}: the benchmark did not verify its work (see Verification.cs)");
            }
            else if (!hasLimit)
            {
                verdict = "FAILED: no budget";
                failures.Add($"{name}: no entry in budget.json (measured {measured} B/op)");
            }
            else if (measured > limit)
            {
                verdict = $"FAILED: over by {measured - limit} B";
                failures.Add($"{name}: {measured} B/op > budget {limit} B/op");
            }
            else
            {
                verdict = "ok";
            }
            rows.Add((name, measured?.ToString("N0", CultureInfo.InvariantCulture) ?? "—",
                hasLimit ? limit.ToString("N0", CultureInfo.InvariantCulture) : "—", verdict));
        }
        // Every budget entry needs a result: one whose benchmark was renamed or lost is a failure, not a row fewer.
        // With a --filter of its own, an entry naming an existing benchmark the filter left out is not expected.
        var existing = userFilter ? AllKeys() : [];
        var notSelected = 0;
        foreach (var (name, limit) in budget)
        {
            if (results.ContainsKey(name))
            {
                continue;
            }
            if (existing.Contains(name))
            {
                notSelected++;
                continue;
            }
            rows.Add((name, "—", limit.ToString("N0", CultureInfo.InvariantCulture), "FAILED: no result (benchmark renamed or lost?)"));
            failures.Add($"{name}: in budget.json but no benchmark of that name ran (renamed or lost?)");
        }
        if (rows.Count == 0)
        {
            Console.Error.WriteLine("budget: no benchmark ran (check --filter).");
            return 2;
        }
        rows.Sort((a, b) => StringComparer.Ordinal.Compare(a.Name, b.Name));

        PrintTable(rows);
        var skipped = notSelected > 0 ? $" ({notSelected} budget entries not selected by --filter)" : "";
        if (failures.Count > 0)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"budget: {failures.Count} of {rows.Count} checks failed against {budgetPath}{skipped}:");
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"  {failure}");
            }
            return 1;
        }
        Console.WriteLine();
        Console.WriteLine($"budget: all {rows.Count} benchmarks did their work within {budgetPath}{skipped}");
        return 0;
    }

    /// <summary>The key of every benchmark case in this assembly, selected or not.</summary>
    private static HashSet<string> AllKeys() =>
        typeof(BudgetCheck).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true } && t.GetMethods().Any(m => m.IsDefined(typeof(BenchmarkAttribute), false)))
            .SelectMany(t => BenchmarkConverter.TypeToBenchmarks(t).BenchmarksCases)
            .Select(Key)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>How budget.json names a benchmark: <c>Class.Method</c>, then <c>(Param=value, …)</c> when it has parameters.</summary>
    public static string Key(BenchmarkCase benchmark)
    {
        var name = $"{benchmark.Descriptor.Type.Name}.{benchmark.Descriptor.WorkloadMethod.Name}";
        var parameters = benchmark.Parameters.Items;
        return parameters.Count == 0
            ? name
            : $"{name}({string.Join(", ", parameters.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name}={p.Value}")))})";
    }

    private static Dictionary<string, long> ReadBudget(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!document.RootElement.TryGetProperty("allocatedBytesPerOperation", out var limits) || limits.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("expected an object \"allocatedBytesPerOperation\": { \"Class.Method(Param=value)\": bytes }");
        }
        var budget = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in limits.EnumerateObject())
        {
            budget[entry.Name] = entry.Value.GetInt64();
        }
        return budget;
    }

    private static void PrintTable(List<(string Name, string Measured, string Limit, string Verdict)> rows)
    {
        string[] header = ["Benchmark", "Allocated B/op", "Budget B/op", "Result"];
        var widths = new[]
        {
            Math.Max(header[0].Length, rows.Max(r => r.Name.Length)),
            Math.Max(header[1].Length, rows.Max(r => r.Measured.Length)),
            Math.Max(header[2].Length, rows.Max(r => r.Limit.Length)),
            Math.Max(header[3].Length, rows.Max(r => r.Verdict.Length)),
        };
        Console.WriteLine();
        Console.WriteLine("Allocation budget");
        Console.WriteLine($"| {header[0].PadRight(widths[0])} | {header[1].PadLeft(widths[1])} | {header[2].PadLeft(widths[2])} | {header[3].PadRight(widths[3])} |");
        Console.WriteLine($"|-{new string('-', widths[0])}-|-{new string('-', widths[1])}:|-{new string('-', widths[2])}:|-{new string('-', widths[3])}-|");
        foreach (var (name, measured, limit, verdict) in rows)
        {
            Console.WriteLine($"| {name.PadRight(widths[0])} | {measured.PadLeft(widths[1])} | {limit.PadLeft(widths[2])} | {verdict.PadRight(widths[3])} |");
        }
    }
}
