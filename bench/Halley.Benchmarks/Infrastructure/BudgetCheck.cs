using System.Globalization;
using System.Text.Json;
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
        if (!forwarded.Contains("--filter", StringComparer.Ordinal))
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
        if (reports.Count == 0)
        {
            Console.Error.WriteLine("budget: no benchmark ran (check --filter).");
            return 2;
        }

        var failures = new List<string>();
        var rows = new List<(string Name, string Measured, string Limit, string Verdict)>();
        foreach (var report in reports.OrderBy(r => Key(r.BenchmarkCase), StringComparer.Ordinal))
        {
            var name = Key(report.BenchmarkCase);
            var measured = report.Success ? report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) : null;
            string verdict;
            if (measured is null)
            {
                verdict = "FAILED: no allocation measurement (did the benchmark run?)";
                failures.Add($"{name}: no allocation measurement");
            }
            else if (!budget.TryGetValue(name, out var limit))
            {
                verdict = "FAILED: not in budget.json";
                failures.Add($"{name}: no budget entry (measured {measured} B/op)");
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
            rows.Add((name, measured?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                budget.TryGetValue(name, out var l) ? l.ToString("N0", CultureInfo.InvariantCulture) : "-", verdict));
        }

        PrintTable(rows);
        if (failures.Count > 0)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"budget: {failures.Count} benchmark(s) over the allocation budget ({budgetPath}):");
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"  {failure}");
            }
            return 1;
        }
        Console.WriteLine();
        Console.WriteLine($"budget: all {rows.Count} benchmarks within {budgetPath}");
        return 0;
    }

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
