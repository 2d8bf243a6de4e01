using System.Globalization;
using System.Text;
using Halley.Benchmarks.Infrastructure;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// <c>--history-memory</c>: what a channel's history holds on the heap per retained message, beyond the message's
/// own <c>data</c>. Not a BenchmarkDotNet benchmark: BDN measures what an operation allocates, while this is what
/// stays alive, measured as the difference in live heap after full blocking collections.
/// </summary>
/// <remarks>
/// For each payload size, two engines are built the same way and given the same publishes (twice the history
/// size, so the history is full and evicting, as on a server that has been running; nobody subscribed): one whose
/// rule keeps the channel's last <see cref="Retained"/> messages, one with no rule. The live heap each adds is
/// measured with <see cref="GC.GetTotalMemory(bool)"/> (full, blocking, compacting collections) before the engine
/// is built and after the publishes; the difference between the two engines, divided by <see cref="Retained"/>,
/// is what history holds per message. Each measurement is repeated and the median printed with the range, so a
/// collection that ran late shows as spread rather than as a result. Run it from a Release build with nothing
/// else in the process: <c>dotnet run -c Release --project bench/Halley.Benchmarks -- --history-memory</c>.
/// </remarks>
internal static class HistoryMemory
{
    public const string Option = "--history-memory";

    /// <summary>Messages the history keeps (its rule's Size).</summary>
    public const int Retained = 10_000;

    private const string Channel = "/market/fx/quotes/eurusd";
    private const int Repeats = 5;
    private static readonly int[] PayloadSizes = [64, 1024];

    public static int Run()
    {
        Console.WriteLine($"History memory: {Retained:N0} retained messages on {Channel}, {2 * Retained:N0} publishes, no subscribers, median of {Repeats} runs (range)");
        Console.WriteLine($".NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| data | live heap, history on | live heap, history off | per retained message | minus data | allocated per publish, on / off |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var size in PayloadSizes)
        {
            var data = Payload(size);
            // A first round warms up the JIT and the runtime's own caches, which would otherwise land in the first measurement.
            Measure(history: true, data);
            Measure(history: false, data);
            var on = Enumerable.Range(0, Repeats).Select(_ => Measure(history: true, data)).ToList();
            var off = Enumerable.Range(0, Repeats).Select(_ => Measure(history: false, data)).ToList();
            var onLive = Median(on.Select(m => m.Live));
            var offLive = Median(off.Select(m => m.Live));
            var perMessage = (double)(onLive - offLive) / Retained;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {size:N0} B | {onLive:N0} B ({Range(on.Select(m => m.Live))}) | {offLive:N0} B ({Range(off.Select(m => m.Live))}) "
                + $"| {perMessage:N1} B | {perMessage - size:N1} B | {Median(on.Select(m => m.AllocatedPerPublish)):N0} B / {Median(off.Select(m => m.AllocatedPerPublish)):N0} B |"));
        }
        return 0;
    }

    /// <summary>A JSON object of exactly <paramref name="size"/> UTF-8 bytes: <c>{"pad":"xx…"}</c>.</summary>
    internal static byte[] Payload(int size)
    {
        const string head = "{\"pad\":\"";
        const string tail = "\"}";
        return Encoding.UTF8.GetBytes(head + new string('x', size - head.Length - tail.Length) + tail);
    }

    private static (long Live, long AllocatedPerPublish) Measure(bool history, byte[] data)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var options = new HalleyOptions();
        if (history)
        {
            options.History.Channels[Channel] = new HistoryRule { Size = Retained, Ttl = TimeSpan.FromHours(1) };
        }
        var fixture = new EngineFixture(options);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2 * Retained; i++)
        {
            var publish = fixture.Engine.PublishAsync(Channel, data, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            if (!publish.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The publish did not complete synchronously.");
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var after = GC.GetTotalMemory(forceFullCollection: true);
        if (fixture.InMemoryEngine.HistorySize.Messages != (history ? Retained : 0))
        {
            throw new InvalidOperationException("The history does not hold what the measurement assumes.");
        }
        GC.KeepAlive(fixture);
        fixture.Dispose();
        return (after - before, allocated / (2 * Retained));
    }

    private static long Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Range(IEnumerable<long> values)
    {
        var list = values.ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{list.Min():N0}–{list.Max():N0}");
    }
}
