using System.Collections.Concurrent;
using System.Globalization;
using Spectre.Console;

namespace Halley.LoadTest.Reporting;

/// <summary>What the live display shows; written by the coordinator's monitor loop.</summary>
internal sealed class LiveStatus
{
    public volatile string Phase = "starting";
    public int Target;
    public int Opened;
    public int Failed;
    public int Dropped;
    public long Received;
    public double MessagesPerSecond;
    public long Published;
    public long? ServerRss;
    public double? ServerCpuPercent;
    public double? ServerCpuMicrosPerMessage;
    public double? LoadGeneratorCpuPercent;
    public double? MessagesPerFrame;
    public long ClientWorkingSet;
    public DateTimeOffset Started = DateTimeOffset.UtcNow;
}

/// <summary>
/// A Spectre.Console live table when stdout is a terminal; plain lines every two seconds otherwise (CI, logs).
/// Log lines raised during a live display are held and printed after it, so they do not tear the table.
/// </summary>
internal sealed class ProgressView
{
    private readonly ConcurrentQueue<string> _held = new();
    private readonly bool _interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    private volatile bool _live;

    public LiveStatus Status { get; } = new();

    public void Log(string line)
    {
        if (_live)
        {
            if (_held.Count < 200)
            {
                _held.Enqueue(line);
            }
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }

    public async Task RunAsync(Func<Task> work)
    {
        var task = work();
        if (_interactive)
        {
            _live = true;
            try
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumn("what").AddColumn("value");
                await AnsiConsole.Live(table).StartAsync(async ctx =>
                {
                    while (!task.IsCompleted)
                    {
                        Fill(table);
                        ctx.Refresh();
                        await Task.WhenAny(task, Task.Delay(500));
                    }
                    Fill(table);
                    ctx.Refresh();
                });
            }
            finally
            {
                _live = false;
                while (_held.TryDequeue(out var line))
                {
                    Console.Error.WriteLine(line);
                }
            }
        }
        else
        {
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(2000));
                Console.WriteLine(Line());
            }
        }
        await task;
    }

    private void Fill(Table table)
    {
        var s = Status;
        table.Rows.Clear();
        table.AddRow("phase", Markup.Escape(s.Phase));
        table.AddRow("elapsed", $"{(DateTimeOffset.UtcNow - s.Started).TotalSeconds:F0} s");
        table.AddRow("connections", $"{s.Opened:N0} / {s.Target:N0} opened, {s.Failed:N0} failed, {s.Dropped:N0} dropped");
        table.AddRow("messages", $"{s.Received:N0} received, {s.MessagesPerSecond:N0}/s, {Format(s.MessagesPerFrame, "F2")} per frame; {s.Published:N0} published");
        table.AddRow("server CPU", $"{Format(s.ServerCpuPercent, "F0")} % ({Format(s.ServerCpuMicrosPerMessage, "F2")} µs per message)");
        table.AddRow("load generator CPU", $"{Format(s.LoadGeneratorCpuPercent, "F0")} %");
        table.AddRow("server RSS", s.ServerRss is { } rss ? $"{rss / 1048576.0:F1} MiB" : "-");
        table.AddRow("workers' working set", $"{s.ClientWorkingSet / 1048576.0:F1} MiB");
    }

    private string Line()
    {
        var s = Status;
        var rss = s.ServerRss is { } bytes ? (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB" : "-";
        return string.Create(CultureInfo.InvariantCulture,
            $"[{(DateTimeOffset.UtcNow - s.Started).TotalSeconds,5:F0}s] {s.Phase}: conns {s.Opened}/{s.Target} failed {s.Failed} dropped {s.Dropped}; received {s.Received} ({s.MessagesPerSecond:F0}/s, {Format(s.MessagesPerFrame, "F2")}/frame), published {s.Published}; server CPU {Format(s.ServerCpuPercent, "F0")}% ({Format(s.ServerCpuMicrosPerMessage, "F2")} µs/msg), load generator CPU {Format(s.LoadGeneratorCpuPercent, "F0")}%; server RSS {rss}");
    }

    private static string Format(double? value, string format) =>
        value is { } v && !double.IsNaN(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
