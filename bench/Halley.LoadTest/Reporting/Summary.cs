using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Halley.LoadTest.Reporting;

/// <summary>The one-paragraph summary printed at the end of a run.</summary>
internal static class Summary
{
    public static string Describe(RunSettings s, JsonObject? r, string? error)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{s.Label}: {s.Scenario} over {s.Protocol} against {s.Url} with {s.Workers} worker(s)");
        text.Append(s.Scenario == "idle" ? ". " : s.PublishesOverHttp
            ? string.Create(inv, $", {s.Publishers} HTTP publisher(s) each awaiting its answer. ")
            : string.Create(inv, $", {s.Publishers} publisher session(s), {s.InFlight} publishes in flight. "));
        if (error is not null)
        {
            text.Append(inv, $"The run failed: {error}. ");
        }
        if (r is null)
        {
            return text.ToString();
        }
        var c = r["connections"];
        if (c is not null)
        {
            text.Append(inv, $"Connections: {c["opened"]} opened of {c["requested"]} ({c["failed"]} failed, {c["dropped"]} dropped) in {c["openSeconds"]} s. ");
            if (c["firstError"] is { } fe)
            {
                text.Append(inv, $"First connection error: {fe}. ");
            }
            if (c["firstDropReason"] is { } dr)
            {
                text.Append(inv, $"First drop: {dr}. ");
            }
        }
        switch (s.Scenario)
        {
            case "idle":
                foreach (var step in r["steps"]!.AsArray())
                {
                    text.Append(inv, $"At {step!["connections"]} connections the server's RSS was {Mib(step["rssBytes"])}; ");
                }
                text.Append(inv, $"slope {r["slopeBytesPerConnection"]?.ToString() ?? "-"} B/connection (least squares), ");
                text.Append(inv, $"{r["rssPerConnectionAtLastStepBytes"]?.ToString() ?? "-"} B/connection at the last step ");
                text.Append(inv, $"({r["rssAboveBaselinePerConnectionAtLastStepBytes"]?.ToString() ?? "-"} B above the {Mib(r["baselineRssBytes"])} baseline). ");
                var b = r["broadcast"]!;
                text.Append(inv, $"Broadcast: {b["connectionsReceived"]}/{b["expected"]} connections received it in {b["secondsToDeliver"]} s ({b["messagesReceived"]} messages).");
                break;
            case "fanout":
            case "rooms":
                text.Append(inv, $"Delivered {r["deliveredPerSecond"]} msgs/s from {r["publishesPerSecond"]} publishes/s over a {r["windowSeconds"]} s window; ");
                text.Append(inv, $"{r["received"]} of {r["expectedDeliveries"]} expected deliveries arrived, {r["droppedDuringRun"]} connections dropped");
                var p = r["publishes"]!;
                text.Append(inv, $", {p["failed"]} publishes failed{(p["firstError"] is { } pe ? $" ({pe})" : "")}. ");
                if (r["latency"] is { } l)
                {
                    text.Append(inv, $"Latency p50 {l["p50Ms"]} ms, p90 {l["p90Ms"]}, p99 {l["p99Ms"]}, p99.9 {l["p999Ms"]}, max {l["maxMs"]} ms ({l["samples"]} samples). ");
                }
                Resources(text, r);
                break;
            case "latency":
                var lat = r["latency"]!;
                text.Append(inv, $"At {s.Rate}/s: p50 {lat["p50Ms"]} ms, p90 {lat["p90Ms"]}, p99 {lat["p99Ms"]}, p99.9 {lat["p999Ms"]}, max {lat["maxMs"]} ms ");
                text.Append(inv, $"over {lat["samples"]} deliveries ({r["received"]} of {r["expectedDeliveries"]} expected), {r["droppedDuringRun"]} connections dropped. ");
                Resources(text, r);
                break;
        }
        return text.ToString();
    }

    /// <summary>Server CPU (% of one core, µs per delivery), the load generator's CPU and messages per frame.</summary>
    private static void Resources(StringBuilder text, JsonObject r)
    {
        var inv = CultureInfo.InvariantCulture;
        if (r["cpu"] is { } cpu)
        {
            text.Append(cpu["serverCpuPercent"] is { } sp
                ? string.Create(inv, $"Server CPU {sp}% of one core, {cpu["serverCpuMicrosPerDelivery"]?.ToString() ?? "-"} µs per delivery; ")
                : "Server CPU not measured (no --server-pid); ");
            text.Append(inv, $"load generator CPU {cpu["loadGeneratorCpuPercent"]}%. ");
        }
        if (r["framing"] is { } f)
        {
            text.Append(inv, $"Messages per frame: {f["meanMessagesPerFrame"]?.ToString() ?? "-"} ({f["frames"]} frames).");
        }
    }

    private static string Mib(JsonNode? bytes) =>
        bytes is null ? "-" : (double.Parse(bytes.ToJsonString(), CultureInfo.InvariantCulture) / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
}
