using System.Globalization;
using System.Text;

namespace Halley.BenchReport;

/// <summary>Builds the Markdown report of one run (and its charts, next to the results).</summary>
public sealed class Report(RunData run, string reportPath)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // Issue 3's targets and the scale they are stated at.
    private const double WsBytesPerConnection = 4096;
    private const double LpBytesPerConnection = 8192;
    private const int IssueIdleConnections = 19_000;
    private const int IssueFanoutSubscribers = 10_000;
    private const int IssueLatencySubscribers = 10_000;
    private const int IssueRoomsClients = 1_000;
    private const double FanoutVsSignalR = 2.0;
    private const double FanoutVsKestrel = 1.2;
    private const double LatencyP99VsSignalR = 0.5;
    private const double IdleMemoryVsKestrel = 0.8;
    private const double RoomsVsFaye = 3.0;
    private const double GrowthFlatFraction = 0.8;
    private const double LinearR2 = 0.95;

    private static readonly string[] IdleOrder = ["halley-ws", "signalr", "kestrel-ws", "faye-ws", "halley-lp", "faye-lp", "pushpin"];

    public static string Describe(string target) => target switch
    {
        "halley-ws" => "Halley, Bayeux over WebSocket",
        "halley-lp" => "Halley, Bayeux long-polling",
        "signalr" => "ASP.NET Core SignalR (JSON hub protocol)",
        "kestrel-ws" => "plain Kestrel WebSocket loop (the framework's floor)",
        "faye-ws" => "Faye 1.4.3 (Node), Bayeux over WebSocket",
        "faye-lp" => "Faye 1.4.3 (Node), Bayeux long-polling",
        "pushpin" => "Pushpin 1.36 + GRIP backend, WebSocket-over-HTTP",
        _ => target,
    };

    private readonly StringBuilder md = new();
    private readonly List<(string Target, string Threshold, string Measured, string Met)> targets = [];
    private readonly string chartDir = run.Directory;

    public string Build()
    {
        var title = run.Meta.GetValueOrDefault("date", Path.GetFileName(Path.GetFullPath(run.Directory)));
        var body = new StringBuilder();
        // Sections first (they fill the target table), then the header and the table in front of them.
        var sections = new StringBuilder();
        Section(sections, Idle);
        Section(sections, ConnectOne);
        Section(sections, Fanout);
        Section(sections, Latency);
        Section(sections, Rooms);
        Section(sections, Growth);
        Section(sections, Commands);

        body.AppendLine(Inv, $"# Halley side by side — {title}{(run.Quick ? " (quick)" : "")}");
        body.AppendLine();
        body.AppendLine("Made by `bench/compare.sh" + (run.Quick ? " --quick" : "") + "` and `bench/Halley.BenchReport`. " +
            "Every target ran alone, one after the other, on the same machine with the same load-generator settings; " +
            "the machine is shared and noisy, so **absolute figures are not results, the ratios between targets of one run are**.");
        if (run.Quick)
        {
            body.AppendLine();
            body.AppendLine("**Quick run:** the matrix is shrunk (fewer connections, shorter windows) for development; targets are " +
                "judged at the run's scale and marked where that is below the issue's scale. Only a full run (`bench/compare.sh`) " +
                "measures the issue's targets.");
        }
        body.AppendLine();
        Machine(body);
        body.AppendLine("## Targets (issues 3 and 10)");
        body.AppendLine();
        body.AppendLine("| target | threshold | measured | met |");
        body.AppendLine("|---|---|---|---|");
        foreach (var (t, th, m, met) in targets)
        {
            body.AppendLine(Inv, $"| {t} | {th} | {m} | {met} |");
        }
        body.AppendLine();
        body.AppendLine("\"Halley ÷ peer\" columns: for throughput, above 1 means Halley delivers more; for memory, latency and CPU " +
            "per delivery, below 1 means Halley needs less.");
        body.AppendLine();
        body.Append(sections);
        if (run.Notes.Count > 0 || run.UnreadableFiles.Count > 0)
        {
            body.AppendLine("## Notes");
            body.AppendLine();
            foreach (var n in run.Notes)
            {
                body.AppendLine(n.StartsWith("- ", StringComparison.Ordinal) ? n : "- " + n);
            }
            foreach (var u in run.UnreadableFiles)
            {
                body.AppendLine(Inv, $"- Unreadable result {u}");
            }
            body.AppendLine();
        }
        return body.ToString();
    }

    private void Section(StringBuilder into, Action section)
    {
        md.Clear();
        section();
        into.Append(md);
    }

    private void Machine(StringBuilder b)
    {
        var any = run.Results.FirstOrDefault()?.Root["machine"];
        var m = run.Meta;
        b.AppendLine("## Machine");
        b.AppendLine();
        b.AppendLine("| | |");
        b.AppendLine("|---|---|");
        b.AppendLine(Inv, $"| cores | {any?["cores"]?.ToString() ?? m.GetValueOrDefault("cores", "-")} |");
        b.AppendLine(Inv, $"| CPU | {m.GetValueOrDefault("cpu", "-")} |");
        var mem = Result.Num(any, "memoryBytes");
        b.AppendLine(Inv, $"| memory | {(mem is { } mb ? (mb / (1L << 30)).ToString("F1", Inv) + " GiB" : "-")} |");
        b.AppendLine(Inv, $"| OS | {any?["os"]?.ToString() ?? "-"} (kernel {m.GetValueOrDefault("kernel", "-")}) |");
        b.AppendLine(Inv, $"| .NET | {any?["dotnet"]?.ToString() ?? "-"} (SDK {m.GetValueOrDefault("sdk", "-")}) |");
        b.AppendLine(Inv, $"| Node (Faye, Pushpin's backend) | {m.GetValueOrDefault("node", "-")} |");
        b.AppendLine(Inv, $"| Pushpin | {m.GetValueOrDefault("pushpin", "-")} |");
        b.AppendLine(Inv, $"| open files per process | {m.GetValueOrDefault("nofile", "-")} |");
        b.AppendLine(Inv, $"| load average at start | {m.GetValueOrDefault("loadavg", "-")} |");
        b.AppendLine(Inv, $"| date | {m.GetValueOrDefault("started", "-")} → {m.GetValueOrDefault("finished", "-")} ({m.GetValueOrDefault("durationSeconds", "-")} s) |");
        b.AppendLine(Inv, $"| commit | {m.GetValueOrDefault("commit", "-")} |");
        if (m.TryGetValue("src", out var src))
        {
            b.AppendLine(Inv, $"| src/ (the servers under test) last changed in | {src} |");
        }
        b.AppendLine();
    }

    // ---------------------------------------------------------------- idle

    private void Idle()
    {
        var results = Ordered(run.Group("idle"));
        if (results.Count == 0)
        {
            return;
        }
        md.AppendLine("## Idle subscribers: memory and capacity (`idle`)");
        md.AppendLine();
        md.AppendLine("Connections are opened step by step, each subscribed to one of 100 rooms; at each step the server's RSS is read " +
            "from `/proc/<pid>/status` once stable. At the end one message is published to every room and every connection must " +
            "receive it. *Above baseline* is (RSS at the last step − RSS before any connection) ÷ connections: the cost of one " +
            "connection, which the issue's targets are about; the slope is the least-squares fit over the steps.");
        md.AppendLine();
        md.AppendLine("| target | connections (last step) | failed / dropped | baseline RSS | RSS at last step | above baseline per connection | slope per connection | broadcast received | Halley-ws ÷ target (per connection) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var halley = results.FirstOrDefault(r => r.Target == "halley-ws");
        var halleyPer = halley?.R("rssAboveBaselinePerConnectionAtLastStepBytes");
        foreach (var r in results)
        {
            if (!Row(r, 9))
            {
                continue;
            }
            var last = LastStep(r);
            var per = r.R("rssAboveBaselinePerConnectionAtLastStepBytes");
            var ratio = r.Target.StartsWith("halley", StringComparison.Ordinal) || halleyPer is null || per is null or <= 0
                ? "—" : Ratio(halleyPer.Value / per.Value);
            var pidNote = r.Target == "pushpin" ? " (runner only)" : "";
            md.AppendLine(Inv, $"| {Name(r)} | {N(Result.Num(last, "connections"))} | {N(r.R("connections.failed"))} / {N(r.R("connections.dropped"))} | " +
                $"{Mib(r.R("baselineRssBytes"))} | {Mib(Result.Num(last, "rssBytes"))}{pidNote} | {Bytes(per)} | {Bytes(r.R("slopeBytesPerConnection"))} | " +
                $"{N(r.R("broadcast.connectionsReceived"))} / {N(r.R("broadcast.expected"))} | {ratio} |");
        }
        md.AppendLine();

        // RSS per step, one row per target.
        var steps = results.Where(r => r.Ok).SelectMany(r => StepsOf(r).Select(s => s.Connections)).Distinct().Order().ToList();
        if (steps.Count > 0)
        {
            md.AppendLine("RSS (MiB) at each step:");
            md.AppendLine();
            md.AppendLine("| target | baseline | " + string.Join(" | ", steps.Select(s => N(s))) + " |");
            md.AppendLine("|---|---|" + string.Concat(steps.Select(_ => "---|")));
            foreach (var r in results.Where(r => r.Ok))
            {
                var byCount = StepsOf(r).ToDictionary(s => s.Connections, s => s.Rss);
                var cells = string.Join(" | ", steps.Select(s => byCount.TryGetValue(s, out var v) ? Mib(v) : "-"));
                md.AppendLine(Inv, $"| {r.Target} | {Mib(r.R("baselineRssBytes"))} | {cells} |");
            }
            md.AppendLine();
        }

        var chart = Charts.Lines(Path.Combine(chartDir, "memory.png"), "Server RSS vs idle subscribed connections",
            "connections", "server RSS (MiB)",
            [.. results.Where(r => r.Ok).Select(r =>
            {
                var pts = StepsOf(r).ToList();
                var baseline = r.R("baselineRssBytes");
                if (baseline is { } b)
                {
                    pts.Insert(0, (0, b));
                }
                return (r.Target, r.Target, pts.Select(p => (double)p.Connections).ToArray(), pts.Select(p => p.Rss / 1048576.0).ToArray());
            })]);
        Image(chart, "Server RSS vs connections");

        // Targets: memory per connection, capacity, linearity.
        MemoryTarget(halley, "Memory per idle subscribed WebSocket (halley-ws)", WsBytesPerConnection);
        MemoryTarget(results.FirstOrDefault(r => r.Target == "halley-lp"), "Memory per held long-poll (halley-lp)", LpBytesPerConnection);
        MemoryRatioTarget("Issue 10: memory per idle subscribed WebSocket vs plain Kestrel loop (halley-ws ÷ kestrel-ws, above baseline)",
            halley, results.FirstOrDefault(r => r.Target == "kestrel-ws"), IdleMemoryVsKestrel);
        if (halley is not null)
        {
            if (!halley.Ok)
            {
                targets.Add(("Capacity: idle subscribers on one node, all receive a broadcast", $"{N(IssueIdleConnections)}", Failed(halley), "no"));
            }
            else
            {
                var conns = Result.Num(LastStep(halley), "connections") ?? 0;
                var received = halley.R("broadcast.connectionsReceived") ?? 0;
                var expected = halley.R("broadcast.expected") ?? -1;
                var failed = halley.R("connections.failed") ?? 0;
                var ok = conns >= Math.Min(IssueIdleConnections, halley.P("connections") ?? IssueIdleConnections) && received == expected && failed == 0;
                targets.Add(("Capacity: idle subscribers on one node, all receive a broadcast", $"{N(IssueIdleConnections)} connections, all receive",
                    $"{N(conns)} connections, {N(received)}/{N(expected)} received, {N(failed)} failed",
                    Met(ok, conns, IssueIdleConnections)));
            }
            if (halley.Ok)
            {
                var pts = StepsOf(halley).ToList();
                var (slope, r2) = Fit(pts);
                var twoPoint = halley.R("twoPointSlopeBytesPerConnection");
                var segs = new List<string>();
                for (var i = 1; i < pts.Count; i++)
                {
                    segs.Add(Bytes((pts[i].Rss - pts[i - 1].Rss) / (pts[i].Connections - pts[i - 1].Connections)));
                }
                var measured = $"slope {Bytes(twoPoint)} first→last step ({N(pts.FirstOrDefault().Connections)}→{N(pts.LastOrDefault().Connections)}), " +
                    $"least squares {Bytes(slope)}, R² {r2.ToString("F3", Inv)}; per segment: {string.Join(", ", segs)}";
                var met = pts.Count < 3 ? "n/a (only " + pts.Count + " steps: linearity needs 3)" : Met(r2 >= LinearR2, pts[^1].Connections, IssueIdleConnections);
                targets.Add(("Growth: memory linear in connections (halley-ws)", $"linear fit R² ≥ {LinearR2.ToString("F2", Inv)} from 1,000 to 19,000", measured, met));
            }
        }
    }

    private void MemoryRatioTarget(string what, Result? halley, Result? peer, double factor)
    {
        if (halley is null || peer is null)
        {
            return;
        }
        var h = halley.R("rssAboveBaselinePerConnectionAtLastStepBytes");
        var p = peer.R("rssAboveBaselinePerConnectionAtLastStepBytes");
        if (!halley.Ok || !peer.Ok || h is null || p is null or <= 0)
        {
            targets.Add((what, $"≤ {factor.ToString("0.0#", Inv)}×", !halley.Ok ? Failed(halley) : !peer.Ok ? Failed(peer) : "no memory figures", "not measured"));
            return;
        }
        var ratio = h.Value / p.Value;
        targets.Add((what, $"≤ {factor.ToString("0.0#", Inv)}×", $"{Ratio(ratio)} ({Bytes(h)} vs {Bytes(p)} per connection)",
            Met(ratio <= factor, Result.Num(LastStep(halley), "connections") ?? 0, IssueIdleConnections)));
    }

    // ---------------------------------------------------------------- connect-one

    /// <summary>
    /// Issue 10's connect rate: 19,000 subscribers of ONE channel opened as fast as the load generator's workers
    /// manage (a Bayeux open is handshake + subscribe + the first connect; the plain loop's is the upgrade and its
    /// join), compared with the plain loop's rate in the same run.
    /// </summary>
    private void ConnectOne()
    {
        var results = Ordered(run.Group("connect-one"));
        if (results.Count == 0)
        {
            return;
        }
        md.AppendLine("## Connect rate: subscribers of one channel (`connect-one`)");
        md.AppendLine();
        md.AppendLine("Connections are opened as fast as the load generator's workers go (64 opens in flight per worker), every one " +
            "subscribed to the same channel, so each open adds to one subscriber list: the case that was O(N²) before issue 10. " +
            "*Open time* sums the time spent opening (RSS settling between steps is not counted); the rate is connections ÷ open time. " +
            "A Halley open is a WebSocket upgrade plus the Bayeux handshake, subscribe and first connect; SignalR's is negotiate, upgrade, " +
            "handshake and a group join; the plain loop's is the upgrade and a join message.");
        md.AppendLine();
        md.AppendLine("| target | connections | failed / dropped | open time | connections / s | broadcast received | Halley ÷ target (connections/s) |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        var halley = results.FirstOrDefault(r => r.Target == "halley-ws");
        var h = ConnectRate(halley);
        foreach (var r in results)
        {
            if (!Row(r, 7))
            {
                continue;
            }
            var rate = ConnectRate(r);
            md.AppendLine(Inv, $"| {Name(r)} | {N(Result.Num(LastStep(r), "connections"))} | {N(r.R("connections.failed"))} / {N(r.R("connections.dropped"))} | " +
                $"{r.R("connections.openSeconds")?.ToString("F1", Inv) ?? "-"} s | {N(rate)} | " +
                $"{N(r.R("broadcast.connectionsReceived"))} / {N(r.R("broadcast.expected"))} | {RatioOf(r, h, rate)} |");
        }
        md.AppendLine();
        var kestrel = results.FirstOrDefault(r => r.Target == "kestrel-ws");
        if (halley is not null && kestrel is not null)
        {
            const string what = "Issue 10: connect rate of subscribers of one channel vs plain Kestrel loop (halley-ws ÷ kestrel-ws, connections/s)";
            var k = ConnectRate(kestrel);
            if (!halley.Ok || !kestrel.Ok || h is null || k is null or <= 0)
            {
                targets.Add((what, "≥ 1.0×", !halley.Ok ? Failed(halley) : !kestrel.Ok ? Failed(kestrel) : "no open times", "not measured"));
            }
            else
            {
                var conns = Result.Num(LastStep(halley), "connections") ?? 0;
                var failed = halley.R("connections.failed") ?? 0;
                targets.Add((what, "≥ 1.0×", $"{Ratio(h.Value / k.Value)} ({N(h)} vs {N(k)} per second, {N(conns)} connections)",
                    Met(h.Value >= k.Value && failed == 0, conns, IssueIdleConnections)));
            }
        }
    }

    private static double? ConnectRate(Result? r) =>
        r is { Ok: true } && r.R("connections.openSeconds") is { } s && s > 0 && Result.Num(LastStep(r), "connections") is { } n ? n / s : null;

    private void MemoryTarget(Result? r, string what, double threshold)
    {
        if (r is null)
        {
            return;
        }
        if (!r.Ok)
        {
            targets.Add((what, $"≤ {Bytes(threshold)} at {N(IssueIdleConnections)}", Failed(r), "no"));
            return;
        }
        var per = r.R("rssAboveBaselinePerConnectionAtLastStepBytes");
        var conns = Result.Num(LastStep(r), "connections") ?? 0;
        targets.Add((what, $"≤ {Bytes(threshold)} per connection at {N(IssueIdleConnections)}",
            $"{Bytes(per)} above baseline at {N(conns)} (slope {Bytes(r.R("slopeBytesPerConnection"))})",
            Met(per is { } p && p <= threshold, conns, IssueIdleConnections)));
    }

    // ---------------------------------------------------------------- fanout

    // The fan-out scenarios in report order: issue 10's (backends over HTTP) first, then issue 3's.
    private static readonly string[] FanoutGroups = ["fanout", "fanout-http4", "fanout-channels", "fanout-inflight"];

    private void Fanout()
    {
        foreach (var group in FanoutGroups)
        {
            FanoutGroup(group);
        }
        // Issue 3's thresholds are judged where issue 3 measured them: each target's own client, 16 publishes in flight
        // (`fanout-inflight`; `fanout` in runs from before the HTTP publishers).
        var issue3 = FanoutGroups.Select(g => run.Group(g).ToList()).FirstOrDefault(g => g.Count > 0 && g.All(r => !OverHttp(r)));
        if (issue3 is not null)
        {
            var halley = issue3.FirstOrDefault(r => r.Target == "halley-ws");
            ThroughputTarget("Fan-out vs SignalR (halley-ws ÷ signalr, delivered msgs/s)", halley, issue3.FirstOrDefault(r => r.Target == "signalr"),
                "deliveredPerSecond", FanoutVsSignalR, IssueFanoutSubscribers);
            ThroughputTarget("Fan-out vs plain Kestrel loop (halley-ws ÷ kestrel-ws, delivered msgs/s)", halley, issue3.FirstOrDefault(r => r.Target == "kestrel-ws"),
                "deliveredPerSecond", FanoutVsKestrel, IssueFanoutSubscribers);
        }
        // Issue 10: the same thresholds with every target fed by backend publishers over HTTP, in each of its three shapes
        // (one publisher, four publishers, one publisher over 100 channels), and CPU per delivery at or below the plain loop's.
        foreach (var group in new[] { "fanout", "fanout-http4", "fanout-channels" })
        {
            var results = run.Group(group).ToList();
            if (results.Count == 0 || !results.All(OverHttp))
            {
                continue;
            }
            var shape = ShapeOf(group, results[0]);
            var halley = results.FirstOrDefault(r => r.Target == "halley-ws");
            var kestrel = results.FirstOrDefault(r => r.Target == "kestrel-ws");
            ThroughputTarget($"Issue 10: {shape} vs SignalR (halley-ws ÷ signalr, delivered msgs/s)", halley,
                results.FirstOrDefault(r => r.Target == "signalr"), "deliveredPerSecond", FanoutVsSignalR, IssueFanoutSubscribers);
            ThroughputTarget($"Issue 10: {shape} vs plain Kestrel loop (halley-ws ÷ kestrel-ws, delivered msgs/s)", halley,
                kestrel, "deliveredPerSecond", FanoutVsKestrel, IssueFanoutSubscribers);
            CpuPerDeliveryTarget($"Issue 10: {shape}, server CPU per delivery vs plain Kestrel loop (halley-ws ÷ kestrel-ws)", halley, kestrel);
        }
    }

    private static string ShapeOf(string group, Result first)
    {
        var publishers = (int)(first.P("publishers") ?? 1);
        var channels = (int)(first.P("channels") ?? 1);
        var who = publishers == 1 ? "one HTTP publisher" : $"{N(publishers)} HTTP publishers";
        return channels > 1 ? $"fan-out over {N(channels)} channels from {who}" : $"fan-out from {who}";
    }

    private void CpuPerDeliveryTarget(string what, Result? halley, Result? peer)
    {
        if (halley is null || peer is null)
        {
            return;
        }
        var h = halley.R("cpu.serverCpuMicrosPerDelivery");
        var p = peer.R("cpu.serverCpuMicrosPerDelivery");
        if (!halley.Ok || !peer.Ok || h is null || p is null or <= 0)
        {
            targets.Add((what, "≤ 1.0×", !halley.Ok ? Failed(halley) : !peer.Ok ? Failed(peer) : "no CPU figures", "not measured"));
            return;
        }
        var ratio = h.Value / p.Value;
        targets.Add((what, "≤ 1.0×", $"{Ratio(ratio)} ({Micros(h)} vs {Micros(p)})",
            Met(ratio <= 1.0 && Clean(halley), halley.P("connections") ?? 0, IssueFanoutSubscribers)));
    }

    private static bool OverHttp(Result r) => r.Parameters?["publishVia"]?.ToString() == "http";

    private static string FanoutTitle(string group, Result first)
    {
        var publishers = (int)(first.P("publishers") ?? 1);
        var channels = (int)(first.P("channels") ?? 1);
        if (!OverHttp(first))
        {
            return group == "fanout"
                ? "Fan-out: one channel, every subscriber gets every message (`fanout`)"
                : $"Fan-out with {N(first.P("inFlight"))} publishes in flight over each target's own client (`{group}`, issue 3's scenario)";
        }
        var who = publishers == 1 ? "one backend publisher" : $"{N(publishers)} backend publishers";
        return channels > 1
            ? $"Fan-out over {N(channels)} channels from {who} over HTTP (`{group}`)"
            : $"Fan-out from {who} over HTTP (`{group}`{(group == "fanout" && publishers == 1 ? ", issue 10's scenario" : "")})";
    }

    private static string Feeding(Result first)
    {
        var publishers = (int)(first.P("publishers") ?? 1);
        if (!OverHttp(first))
        {
            return $"each target's own client publishes, {N(first.P("inFlight"))} publishes in flight at once (Bayeux targets over " +
                "4 sessions; SignalR's hub `Publish` over 4 connections; the plain loop and Pushpin by concurrent POSTs)";
        }
        var who = publishers == 1
            ? "one backend publisher POSTs each message to the server's HTTP publish endpoint and awaits the answer before the next"
            : $"{N(publishers)} backend publishers POST at once, each awaiting its own answer before its next request";
        return who + " (Halley: `POST /api/publish`; SignalR: the peer's `POST /publish`, an `IHubContext` group send; the plain loop " +
            "and Pushpin's backend: `POST /publish`; Faye: a session-less Bayeux publish POSTed to `/faye`)";
    }

    private void FanoutGroup(string group)
    {
        var results = Ordered(run.Group(group));
        if (results.Count == 0)
        {
            return;
        }
        var first = results.FirstOrDefault(r => r.Target == "halley-ws") ?? results[0];
        var channels = (int)(first.P("channels") ?? 1);
        var cores = Result.Num(first.Root["machine"], "cores");
        md.AppendLine(Inv, $"## {FanoutTitle(group, first)}");
        md.AppendLine();
        var spread = channels > 1
            ? $"dealt round robin over {N(channels)} channels ({N(first.P("connections") / channels)} each), publishes going round robin over the channels"
            : "of one channel";
        md.AppendLine(Inv, $"{N(first.P("connections"))} subscribers {spread}, {N(first.P("payloadBytes"))}-byte messages; {Feeding(first)}; " +
            $"{N(first.P("durationSeconds"))} s of publishing, measured over the window after the warm-up. Delivered msgs/s counts messages " +
            $"received by all subscribers in the window. *Server CPU* is utime + stime of the server's process session read from " +
            $"`/proc/<pid>/stat` at both ends of the window, in % of one core (the machine has {N(cores)}; the load generator shares them, " +
            $"its own CPU is the *load gen. CPU* column), and per delivery: CPU time ÷ messages delivered in the window. *Msgs/frame* is " +
            $"counted by the load generator's receiving side: the messages each WebSocket message carried (a Bayeux frame is a JSON array, " +
            $"a SignalR message holds 0x1E-separated records, the plain loop sends one per message). *Peak RSS (all processes)* is sampled " +
            $"by compare.sh every second over the target's process session. Halley runs with `--Halley:MaxQueue=100000`.");
        md.AppendLine();
        md.AppendLine("| target | subscribers | delivered msgs/s | publishes/s | server CPU | server CPU µs / delivery | msgs / frame | load gen. CPU | received / expected | dropped | publishes failed | peak RSS (all processes) | Halley ÷ target (delivered/s) | Halley ÷ target (CPU / delivery) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var halley = results.FirstOrDefault(r => r.Target == "halley-ws");
        var h = halley?.R("deliveredPerSecond");
        var hc = halley?.R("cpu.serverCpuMicrosPerDelivery");
        foreach (var r in results)
        {
            if (!Row(r, 14))
            {
                continue;
            }
            var d = r.R("deliveredPerSecond");
            var c = r.R("cpu.serverCpuMicrosPerDelivery");
            md.AppendLine(Inv, $"| {Name(r)} | {N(r.P("connections"))} | {N(d)} | {N(r.R("publishesPerSecond"))} | {Percent(r.R("cpu.serverCpuPercent"))} | " +
                $"{Micros(c)} | {PerFrame(r.R("framing.meanMessagesPerFrame"))} | {Percent(r.R("cpu.loadGeneratorCpuPercent"))} | " +
                $"{N(r.R("received"))} / {N(r.R("expectedDeliveries"))} | {N(r.R("droppedDuringRun"))} | {N(r.R("publishes.failed"))} | {TreeRss(r)} | " +
                $"{RatioOf(r, h, d)} | {RatioOf(r, hc, c)} |");
        }
        md.AppendLine();
        if (halley is { Ok: true })
        {
            var lines = new List<string>();
            foreach (var peer in new[] { "signalr", "kestrel-ws" })
            {
                var p = results.FirstOrDefault(r => r.Target == peer && r.Ok);
                if (p is null)
                {
                    continue;
                }
                var pd = p.R("deliveredPerSecond");
                var pc = p.R("cpu.serverCpuMicrosPerDelivery");
                var cpu = hc is { } x && pc is { } y && y > 0 ? $" at {Ratio(x / y)} the server CPU per delivery" : "";
                lines.Add($"vs **{peer}** {(h is { } a && pd is { } b && b > 0 ? Ratio(a / b) : "-")} the deliveries/s{cpu}");
            }
            if (lines.Count > 0)
            {
                md.AppendLine(Inv, $"halley-ws: {string.Join("; ", lines)}.");
                md.AppendLine();
            }
        }
        FramingTable(results);
        var chart = Charts.Bars(Path.Combine(chartDir, group + ".png"),
            $"{FanoutTitle(group, first).Split(" (`")[0]}: delivered msgs/s, {N(first.P("connections"))} subscribers",
            "delivered messages / s", [.. results.Where(r => r.Ok).Select(r => (r.Target, r.Target, r.R("deliveredPerSecond") ?? 0))], "N0");
        Image(chart, $"{group}: delivered msgs/s");
        var withCpu = results.Where(r => r.Ok && r.R("cpu.serverCpuMicrosPerDelivery") is not null).ToList();
        if (withCpu.Count > 0)
        {
            var cpuChart = Charts.Bars(Path.Combine(chartDir, group + "-cpu.png"),
                $"{FanoutTitle(group, first).Split(" (`")[0]}: server CPU µs per delivery (lower is better)",
                "server CPU µs / delivery", [.. withCpu.Select(r => (r.Target, r.Target, r.R("cpu.serverCpuMicrosPerDelivery") ?? 0))], "F2");
            Image(cpuChart, $"{group}: server CPU per delivery");
        }
    }

    /// <summary>Frames by messages carried, as shares of the frames of the window, per target.</summary>
    private void FramingTable(IReadOnlyList<Result> results)
    {
        var withFrames = results.Where(r => r.Ok && r.Results?["framing"]?["framesByMessages"] is System.Text.Json.Nodes.JsonObject).ToList();
        if (withFrames.Count == 0)
        {
            return;
        }
        var buckets = withFrames[0].Results!["framing"]!["framesByMessages"]!.AsObject().Select(kv => kv.Key).ToList();
        md.AppendLine("Frames by the messages they carried (share of the window's frames that carried any):");
        md.AppendLine();
        md.AppendLine("| target | frames | msgs / frame | " + string.Join(" | ", buckets.Select(b => b.Replace("-", "–", StringComparison.Ordinal))) + " |");
        md.AppendLine("|---|---|---|" + string.Concat(buckets.Select(_ => "---|")));
        foreach (var r in withFrames)
        {
            var frames = r.R("framing.frames") ?? 0;
            var cells = buckets.Select(b =>
            {
                var n = Result.Num(r.Results!["framing"]!["framesByMessages"], b) ?? 0;
                return frames <= 0 || n <= 0 ? "·"
                    : n / frames < 0.001 ? "<0.1%"
                    : (100 * n / frames).ToString(n / frames >= 0.995 ? "F0" : "F1", Inv) + "%";
            });
            md.AppendLine(Inv, $"| {Label(r)} | {N(frames)} | {PerFrame(r.R("framing.meanMessagesPerFrame"))} | {string.Join(" | ", cells)} |");
        }
        md.AppendLine();
    }

    private static string Percent(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString("F0", Inv) + "%";

    private static string Micros(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString(v.Value >= 100 ? "F0" : v.Value >= 10 ? "F1" : "F2", Inv) + " µs";

    private static string PerFrame(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString("F2", Inv);

    private void ThroughputTarget(string what, Result? halley, Result? peer, string path, double factor, int issueScale)
    {
        if (halley is null || peer is null)
        {
            return;
        }
        if (!halley.Ok || !peer.Ok)
        {
            targets.Add((what, $"≥ {factor.ToString("0.0", Inv)}×", !halley.Ok ? Failed(halley) : Failed(peer), "not measured"));
            return;
        }
        var h = halley.R(path) ?? 0;
        var p = peer.R(path) ?? 0;
        var ratio = p > 0 ? h / p : double.PositiveInfinity;
        var conns = halley.P("connections") ?? 0;
        var clean = Clean(halley);
        targets.Add((what, $"≥ {factor.ToString("0.0", Inv)}×", $"{Ratio(ratio)} ({N(h)} vs {N(p)}){(clean ? "" : "; Halley lost messages or connections")}",
            Met(ratio >= factor && clean, conns, issueScale)));
    }

    // ---------------------------------------------------------------- latency

    private void Latency()
    {
        var results = Ordered(run.Group("latency"));
        if (results.Count == 0)
        {
            return;
        }
        md.AppendLine("## Publish-to-receive latency (`latency`)");
        md.AppendLine();
        var feeding = OverHttp(results[0])
            ? $"by {((int)(results[0].P("publishers") ?? 1) == 1 ? "one backend publisher" : N(results[0].P("publishers")) + " backend publishers")} " +
              "over HTTP, as in fan-out (Halley: `POST /api/publish`; SignalR: the peer's `IHubContext` `POST /publish`; the plain loop: `POST /publish`), " +
              $"{N(results[0].P("payloadBytes"))}-byte messages"
            : "over each target's own client";
        md.AppendLine(Inv, $"All subscribers join one channel; one message is published at the given rate {feeding}; every delivery's latency " +
            $"(publish timestamp to receipt, same monotonic clock) is recorded, after 10 warm-up publishes. Server CPU is over the " +
            $"publishing and the drain (idle time included).");
        md.AppendLine();
        md.AppendLine("| target | subscribers | rate /s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | samples | received / expected | dropped | server CPU | Halley ÷ target (p99) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var halley = results.FirstOrDefault(r => r.Target == "halley-ws");
        var h = halley?.R("latency.p99Ms");
        foreach (var r in results)
        {
            if (!Row(r, 13))
            {
                continue;
            }
            md.AppendLine(Inv, $"| {Name(r)} | {N(r.P("connections"))} | {N(r.P("rate"))} | {Ms(r.R("latency.p50Ms"))} | {Ms(r.R("latency.p90Ms"))} | " +
                $"{Ms(r.R("latency.p99Ms"))} | {Ms(r.R("latency.p999Ms"))} | {Ms(r.R("latency.maxMs"))} | {N(r.R("latency.samples"))} | " +
                $"{N(r.R("received"))} / {N(r.R("expectedDeliveries"))} | {N(r.R("droppedDuringRun"))} | {Percent(r.R("cpu.serverCpuPercent"))} | {RatioOf(r, h, r.R("latency.p99Ms"))} |");
        }
        md.AppendLine();
        LatencyChart("latency.png", $"Publish-to-receive latency at {N(results[0].P("rate"))} msgs/s, {N(results[0].P("connections"))} subscribers", results);
        var signalr = results.FirstOrDefault(r => r.Target == "signalr");
        if (halley is not null && signalr is not null)
        {
            if (!halley.Ok || !signalr.Ok)
            {
                targets.Add(("Latency p99 at 2 msgs/s vs SignalR", "≤ 0.5× SignalR's p99", !halley.Ok ? Failed(halley) : Failed(signalr), "not measured"));
            }
            else
            {
                var hp = halley.R("latency.p99Ms") ?? double.NaN;
                var sp = signalr.R("latency.p99Ms") ?? double.NaN;
                var clean = Clean(halley);
                targets.Add(("Latency p99 at 2 msgs/s vs SignalR", "≤ 0.5× SignalR's p99",
                    $"{Ratio(hp / sp)} ({Ms(hp)} ms vs {Ms(sp)} ms){(clean ? "" : "; Halley lost messages or connections")}",
                    Met(hp <= LatencyP99VsSignalR * sp && clean, halley.P("connections") ?? 0, IssueLatencySubscribers)));
            }
        }
    }

    private void LatencyChart(string file, string title, IReadOnlyList<Result> results)
    {
        var ok = results.Where(r => r.Ok && r.R("latency.p50Ms") is not null).ToList();
        string[] names = ["p50", "p90", "p99", "p99.9"];
        string[] paths = ["latency.p50Ms", "latency.p90Ms", "latency.p99Ms", "latency.p999Ms"];
        var values = ok.SelectMany(r => paths.Select(p => r.R(p) ?? 0)).Where(v => v > 0).ToList();
        // A log axis when the targets are orders of magnitude apart, else the small ones are invisible.
        var log = values.Count > 0 && values.Max() / Math.Max(values.Min(), 0.001) > 50;
        var chart = Charts.GroupedBars(Path.Combine(chartDir, file), title, "latency (ms)", [.. ok.Select(Label)],
            [.. names.Select((n, i) => (n, ok.Select(r => r.R(paths[i]) ?? double.NaN).ToArray()))], log);
        Image(chart, title);
    }

    // ---------------------------------------------------------------- rooms

    private void Rooms()
    {
        var results = Ordered(run.Group("rooms"));
        if (results.Count == 0)
        {
            return;
        }
        var first = results[0];
        md.AppendLine("## Long-polling chat rooms: CometD's benchmark (`rooms`)");
        md.AppendLine();
        md.AppendLine(Inv, $"{N(first.P("connections"))} long-polling clients, each in {N(first.P("roomsPerClient"))} random rooms of {N(first.P("rooms"))}; " +
            $"{N(first.P("publishers"))} publishers publish {N(first.P("payloadBytes"))}-byte messages to random rooms as fast as " +
            $"{N(first.P("inFlight"))} publishes in flight allow, for {N(first.P("durationSeconds"))} s. Expected deliveries are exact " +
            $"(the coordinator knows every room's members); latency covers every delivery.");
        md.AppendLine();
        md.AppendLine("| target | clients | publish rate | delivered msgs/s | publishes/s | received / expected | dropped | p50 ms | p99 ms | max ms | Halley ÷ Faye (delivered/s) | Halley ÷ Faye (p99) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var faye = results.FirstOrDefault(r => r.Target == "faye-lp");
        var fd = faye?.R("deliveredPerSecond");
        var fp = faye?.R("latency.p99Ms");
        var halley = results.FirstOrDefault(r => r.Target == "halley-lp" && r.Variant is null);
        var halley3 = results.FirstOrDefault(r => r.Target == "halley-lp" && r.Variant == "3x");
        foreach (var r in results)
        {
            if (!Row(r, 12))
            {
                continue;
            }
            var rate = r.P("rate") is { } rt && rt > 0 ? $"{N(rt)}/s{(r.Variant == "3x" ? " (3× Faye's)" : "")}" : "max (16 in flight)";
            var isHalley = r.Target.StartsWith("halley", StringComparison.Ordinal);
            md.AppendLine(Inv, $"| {Name(r)} | {N(r.P("connections"))} | {rate} | {N(r.R("deliveredPerSecond"))} | {N(r.R("publishesPerSecond"))} | " +
                $"{N(r.R("received"))} / {N(r.R("expectedDeliveries"))} | {N(r.R("droppedDuringRun"))} | {Ms(r.R("latency.p50Ms"))} | {Ms(r.R("latency.p99Ms"))} | " +
                $"{Ms(r.R("latency.maxMs"))} | {(isHalley && fd is { } f1 && f1 > 0 ? Ratio((r.R("deliveredPerSecond") ?? 0) / f1) : "—")} | " +
                $"{(isHalley && fp is { } f2 && f2 > 0 ? Ratio((r.R("latency.p99Ms") ?? double.NaN) / f2) : "—")} |");
        }
        md.AppendLine();
        md.AppendLine("`halley-lp (3x)` is Halley again, open loop at three times the publish rate Faye reached: the issue's " +
            "\"≥ 3× Faye's throughput at no worse p99\" on equal terms (at full speed each server queues as much as 16 publishes " +
            "in flight let it, so their p99s measure different loads).");
        md.AppendLine();
        var chart = Charts.Bars(Path.Combine(chartDir, "rooms.png"), "CometD rooms benchmark (long-polling): delivered msgs/s",
            "delivered messages / s", [.. results.Where(r => r.Ok).Select(r => (r.Target, Label(r), r.R("deliveredPerSecond") ?? 0))], "N0");
        Image(chart, "Rooms delivered msgs/s");
        LatencyChart("rooms-latency.png", "CometD rooms benchmark (long-polling): latency", results);
        if (halley is not null && faye is not null)
        {
            ThroughputTarget("Long-polling rooms vs Faye (halley-lp ÷ faye-lp, delivered msgs/s, both at full speed)", halley, faye, "deliveredPerSecond", RoomsVsFaye, IssueRoomsClients);
        }
        if (faye is not null && (halley3 ?? halley) is { } h)
        {
            var what = "Long-polling rooms: at 3× Faye's throughput, p99 no worse than Faye's";
            if (!h.Ok || !faye.Ok)
            {
                targets.Add((what, "Halley p99 ≤ Faye p99", !h.Ok ? Failed(h) : Failed(faye), "not measured"));
            }
            else
            {
                var h99 = h.R("latency.p99Ms") ?? double.NaN;
                var f99 = faye.R("latency.p99Ms") ?? double.NaN;
                var hd = h.R("deliveredPerSecond") ?? 0;
                var f = faye.R("deliveredPerSecond") ?? 0;
                var full = halley is not null && halley.Ok && halley != h
                    ? $"; at full speed: {Ms(halley.R("latency.p99Ms"))} ms at {N(halley.R("deliveredPerSecond"))} msgs/s" : "";
                targets.Add((what, "Halley p99 ≤ Faye p99 while delivering ≥ 3× Faye's msgs/s",
                    $"{Label(h)}: {Ms(h99)} ms at {N(hd)} msgs/s ({Ratio(f > 0 ? hd / f : double.NaN)}) vs Faye {Ms(f99)} ms at {N(f)} msgs/s{full}",
                    Met(h99 <= f99 && f > 0 && hd >= RoomsVsFaye * f * 0.97 && Clean(h), h.P("connections") ?? 0, IssueRoomsClients)));
            }
        }
    }

    private static string Label(Result r) => r.Variant is { } v && r.Point is null ? $"{r.Target} ({v})" : r.Target;

    // ---------------------------------------------------------------- growth

    private void Growth()
    {
        var results = run.Group("growth").Where(r => r.Point is not null).OrderBy(r => r.Point).ToList();
        if (results.Count == 0)
        {
            return;
        }
        var first = results[0];
        md.AppendLine("## Growth: throughput vs subscribers (`rooms` over WebSocket)");
        md.AppendLine();
        md.AppendLine(Inv, $"Halley over Bayeux WebSocket (`halley-ws`), the load generator's `rooms` scenario: N clients, each in " +
            $"{N(first.P("roomsPerClient"))} random room(s) of {N(first.P("rooms"))}, {N(first.P("publishers"))} publishers as fast as " +
            $"{N(first.P("inFlight"))} publishes in flight allow, {N(first.P("durationSeconds"))} s per point; the server runs with " +
            $"`--Halley:MaxQueue=100000` as in fan-out. Each publish reaches about N × rooms-per-client ÷ rooms subscribers, so " +
            $"the fan-out per publish grows with N while the server's delivery rate should stay flat.");
        md.AppendLine();
        md.AppendLine("| subscribers | subscriptions | delivered msgs/s | publishes/s | received / expected | dropped | p50 ms | p99 ms | ÷ best delivered/s |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var best = results.Where(r => r.Ok).Select(r => r.R("deliveredPerSecond") ?? 0).DefaultIfEmpty(0).Max();
        foreach (var r in results)
        {
            if (!r.Ok)
            {
                md.AppendLine(Inv, $"| {N(r.Point)} | {Failed(r)} |||||||||");
                continue;
            }
            var d = r.R("deliveredPerSecond") ?? 0;
            md.AppendLine(Inv, $"| {N(r.Point)} | {N(r.Point * (r.P("roomsPerClient") ?? 1))} | {N(d)} | {N(r.R("publishesPerSecond"))} | " +
                $"{N(r.R("received"))} / {N(r.R("expectedDeliveries"))} | {N(r.R("droppedDuringRun"))} | {Ms(r.R("latency.p50Ms"))} | {Ms(r.R("latency.p99Ms"))} | " +
                $"{(best > 0 ? (d / best).ToString("F2", Inv) : "-")} |");
        }
        md.AppendLine();
        var ok = results.Where(r => r.Ok).ToList();
        var chart = Charts.Lines(Path.Combine(chartDir, "growth.png"), "Growth: Halley (WebSocket) delivered msgs/s vs subscribers",
            $"subscribers (spread over {N(first.P("rooms"))} channels)", "delivered messages / s",
            [("halley-ws", "halley-ws delivered msgs/s", [.. ok.Select(r => (double)r.Point!.Value)], [.. ok.Select(r => r.R("deliveredPerSecond") ?? 0)])]);
        Image(chart, "Growth: throughput vs subscribers");
        if (ok.Count >= 2)
        {
            var last = ok[^1];
            var d = last.R("deliveredPerSecond") ?? 0;
            var clean = ok.All(Clean);
            targets.Add(("Growth: throughput flat from 1,000 to 19,000 subscribers over many channels",
                $"delivered/s at the largest count ≥ {GrowthFlatFraction.ToString("0.0", Inv)}× the best",
                $"{N(d)} msgs/s at {N(last.Point)} = {(best > 0 ? (d / best).ToString("F2", Inv) : "-")}× the best ({N(best)}); points: " +
                string.Join(", ", ok.Select(r => $"{N(r.Point)}→{N(r.R("deliveredPerSecond"))}")) + (clean ? "" : "; messages or connections lost"),
                Met(best > 0 && d >= GrowthFlatFraction * best && clean, last.Point ?? 0, IssueIdleConnections)));
        }
        else
        {
            targets.Add(("Growth: throughput flat from 1,000 to 19,000 subscribers over many channels", $"≥ {GrowthFlatFraction}× the best", "fewer than 2 successful points", "not measured"));
        }
    }

    // ---------------------------------------------------------------- commands

    private void Commands()
    {
        md.AppendLine("## Commands");
        md.AppendLine();
        md.AppendLine("Exactly what ran, in order, run from the repository's root (ports are the free loopback ports compare.sh picked; pids are the servers' at the time).");
        md.AppendLine();
        if (run.BuildCommands.Count > 0)
        {
            md.AppendLine("Build:");
            md.AppendLine();
            md.AppendLine("```");
            foreach (var c in run.BuildCommands)
            {
                md.AppendLine(c);
            }
            md.AppendLine("```");
            md.AppendLine();
        }
        foreach (var r in run.Results.OrderBy(r => r.Root["startedAt"]?.ToString(), StringComparer.Ordinal))
        {
            md.AppendLine(Inv, $"`{r.Stem}` → [{r.Stem}.json]({Rel(Path.Combine(run.Directory, r.Stem + ".json"))}):");
            md.AppendLine();
            md.AppendLine("```");
            foreach (var c in r.Commands.Count > 0 ? r.Commands : ["(no command recorded)"])
            {
                md.AppendLine(c);
            }
            md.AppendLine("```");
            md.AppendLine();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<Result> Ordered(IEnumerable<Result> results) =>
        [.. results.OrderBy(r => Array.IndexOf(IdleOrder, r.Target) is var i && i < 0 ? int.MaxValue : i).ThenBy(r => r.Target, StringComparer.Ordinal).ThenBy(r => r.Variant is not null)];

    /// <summary>Writes a "failed" row for a failed result and returns false, else true.</summary>
    private bool Row(Result r, int columns)
    {
        if (r.Ok)
        {
            return true;
        }
        var empty = string.Concat(Enumerable.Repeat("| ", columns - 2));
        md.AppendLine(Inv, $"| {Name(r)} | {Failed(r)} {empty}|");
        return false;
    }

    private static string Name(Result r) => $"**{Label(r)}**";

    private static string Failed(Result r) => "failed: " + (r.Error ?? "no results").Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>No lost messages, connections or publishes.</summary>
    private static bool Clean(Result r) =>
        (r.R("droppedDuringRun") ?? 0) == 0 && (r.R("connections.failed") ?? 0) == 0 && (r.R("publishes.failed") ?? 0) == 0 &&
        (r.R("received") is not { } rec || r.R("expectedDeliveries") is not { } exp || rec >= exp);

    private static string Met(bool ok, double measuredAt, int issueScale) =>
        (ok ? "**yes**" : "**no**") + (measuredAt < issueScale ? $" (at {N(measuredAt)}; issue: {N(issueScale)})" : "");

    private static string RatioOf(Result r, double? halley, double? value, string halleyTarget = "halley-ws") =>
        r.Target == halleyTarget || halley is null || value is null or 0 ? "—" : Ratio(halley.Value / value.Value);

    private static string Ratio(double v) => double.IsNaN(v) ? "-" : double.IsInfinity(v) ? "∞" : v.ToString(v >= 10 ? "F1" : "F2", Inv) + "×";

    private static IEnumerable<(int Connections, double Rss)> StepsOf(Result r) =>
        (r.Results?["steps"]?.AsArray() ?? []).Select(s => ((int)(Result.Num(s, "connections") ?? 0), Result.Num(s, "rssBytes") ?? 0))
            .Where(p => p.Item2 > 0);

    private static System.Text.Json.Nodes.JsonNode? LastStep(Result r) => r.Results?["steps"]?.AsArray().LastOrDefault();

    private static (double Slope, double R2) Fit(IReadOnlyList<(int Connections, double Rss)> pts)
    {
        if (pts.Count < 2)
        {
            return (double.NaN, double.NaN);
        }
        var mx = pts.Average(p => (double)p.Connections);
        var my = pts.Average(p => p.Rss);
        var sxx = pts.Sum(p => (p.Connections - mx) * (p.Connections - mx));
        var sxy = pts.Sum(p => (p.Connections - mx) * (p.Rss - my));
        var syy = pts.Sum(p => (p.Rss - my) * (p.Rss - my));
        if (sxx == 0)
        {
            return (double.NaN, double.NaN);
        }
        var slope = sxy / sxx;
        var r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return (slope, r2);
    }

    private string TreeRss(Result r) =>
        r.TreePeakRssKib is { } k ? $"{(k / 1024.0).ToString("F0", Inv)} MiB ({r.TreeProcesses} process{(r.TreeProcesses == 1 ? "" : "es")})" : "not measured";

    private void Image(string? path, string alt)
    {
        if (path is null)
        {
            return;
        }
        md.AppendLine(Inv, $"![{alt}]({Rel(path)})");
        md.AppendLine();
    }

    private string Rel(string path) =>
        Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(reportPath))!, Path.GetFullPath(path)).Replace('\\', '/');

    private static string N(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString(Math.Abs(v.Value) >= 100 || v.Value == Math.Floor(v.Value) ? "N0" : "N1", Inv);

    private static string N(int? v) => v is null ? "-" : v.Value.ToString("N0", Inv);

    private static string Ms(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString(v.Value >= 100 ? "F0" : v.Value >= 10 ? "F1" : "F2", Inv);

    private static string Mib(double? bytes) => bytes is null ? "-" : (bytes.Value / 1048576.0).ToString("F1", Inv) + " MiB";

    private static string Bytes(double? b) => b is null || double.IsNaN(b.Value) ? "-" : b.Value.ToString("N0", Inv) + " B";
}
