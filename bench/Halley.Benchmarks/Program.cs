using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Halley.Benchmarks.Infrastructure;

namespace Halley.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Halley.Benchmarks -- --filter '*'</c> runs the suite with
/// BenchmarkDotNet's default job; any BenchmarkDotNet option works. <c>-- --check-budget</c> runs it with a short
/// in-process job and fails if a benchmark allocates more per operation than budget.json allows.
/// <c>-- --history-memory</c> prints what a channel's history keeps alive per retained message (see
/// <see cref="Engine.HistoryMemory"/>); <c>-- --history-ab</c> times history on against off in alternating
/// iterations of one process (see <see cref="Engine.HistoryInterleaved"/>); <c>-- --parallel-ab</c> times publishes to
/// 100 history channels by one thread against two in the same way (see <see cref="Engine.ParallelHistoryInterleaved"/>);
/// <c>-- --index-memory</c> prints what the subscription index keeps alive per subscription (see
/// <see cref="Channels.SubscriptionIndexMemory"/>).
/// </summary>
public static class Program
{
    public static readonly string DefaultArtifactsPath = Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts");

    public static int Main(string[] args)
    {
        if (args.Contains(Engine.HistoryMemory.Option, StringComparer.Ordinal))
        {
            return Engine.HistoryMemory.Run();
        }
        if (args.Contains(Engine.HistoryInterleaved.Option, StringComparer.Ordinal))
        {
            return Engine.HistoryInterleaved.Run();
        }
        if (args.Contains(Engine.ParallelHistoryInterleaved.Option, StringComparer.Ordinal))
        {
            return Engine.ParallelHistoryInterleaved.Run();
        }
        if (args.Contains(Channels.SubscriptionIndexMemory.Option, StringComparer.Ordinal))
        {
            return Channels.SubscriptionIndexMemory.Run();
        }
        var switcher = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly);
        if (args.Contains(BudgetCheck.Option, StringComparer.Ordinal))
        {
            return BudgetCheck.Run(switcher, args);
        }
        // Reports go next to the build output (ignored by git) unless --artifacts says otherwise.
        var config = DefaultConfig.Instance.WithArtifactsPath(DefaultArtifactsPath);
        switcher.Run(args, config);
        return 0;
    }
}
