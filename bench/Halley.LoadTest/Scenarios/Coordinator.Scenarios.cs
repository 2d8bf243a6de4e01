using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Halley.LoadTest.Reporting;
using Halley.LoadTest.Workers;

namespace Halley.LoadTest.Scenarios;

internal sealed partial class Coordinator
{
    /// <summary>
    /// idle: ramps the connections step by step (each subscribed to one of <c>--rooms</c> rooms), records the
    /// server's RSS once it is stable at each step, then broadcasts once to every room and checks that every
    /// connection received it.
    /// </summary>
    private async Task<JsonObject> IdleAsync(CancellationToken ct)
    {
        var steps = new JsonArray();
        var points = new List<(double Connections, double Rss)>();
        Status.Phase = "baseline RSS";
        var baseline = await StableRssAsync(ct);
        double openSeconds = 0;
        Totals totals = await TotalsAsync(ct);
        foreach (var step in settings.Steps)
        {
            openSeconds += await OpenUpToAsync(step, settings.Rooms, 1, RoomPrefix, recordLatency: false, ct);
            Status.Phase = $"step {step:N0}: waiting for a stable RSS";
            var (rss, waited) = await StableRssWithTimeAsync(ct);
            totals = await TotalsAsync(ct);
            steps.Add(new JsonObject
            {
                ["target"] = step,
                ["connections"] = totals.Alive,
                ["failed"] = totals.Failed,
                ["dropped"] = totals.Dropped,
                ["rssBytes"] = rss,
                ["rssStableAfterSeconds"] = Math.Round(waited, 1),
                ["bytesPerConnection"] = rss is { } r && totals.Alive > 0 ? Math.Round((double)r / totals.Alive) : null,
                ["workersWorkingSetBytes"] = totals.WorkingSet,
            });
            if (rss is { } value)
            {
                points.Add((totals.Alive, value));
            }
            view.Log($"step {step}: {totals.Alive} connections alive, {totals.Failed} failed, server RSS {(rss is { } x ? $"{x / 1048576.0:F1} MiB" : "-")}");
        }

        // The broadcast: one message to every room; each connection is in exactly one room.
        Status.Phase = "broadcast to every room";
        await ResetCountsAsync(ct);
        var expected = (await TotalsAsync(ct)).Alive;
        var publishers = CreatePublishers();
        try
        {
            await PublishAsync(publishers, seq => RoomPrefix + seq, rate: 0, TimeSpan.FromMinutes(2), settings.Rooms, null, ct);
        }
        finally
        {
            await DisposeAllAsync(publishers);
        }
        Status.Phase = "waiting for every connection to receive the broadcast";
        var sent = Stopwatch.GetTimestamp();
        totals = await WaitForDeliveriesAsync(t => t.WithMessages >= t.Alive, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(60), ct);
        var deliverySeconds = Stopwatch.GetElapsedTime(sent).TotalSeconds;

        var first = points.FirstOrDefault();
        var lastPoint = points.LastOrDefault();
        var result = new JsonObject
        {
            ["connections"] = Connections(totals, openSeconds),
            ["baselineRssBytes"] = baseline,
            ["steps"] = steps,
            ["slopeBytesPerConnection"] = points.Count >= 2 ? Math.Round(LeastSquaresSlope(points)) : null,
            ["twoPointSlopeBytesPerConnection"] = points.Count >= 2 && lastPoint.Connections > first.Connections
                ? Math.Round((lastPoint.Rss - first.Rss) / (lastPoint.Connections - first.Connections)) : null,
            ["rssPerConnectionAtLastStepBytes"] = points.Count > 0 && lastPoint.Connections > 0 ? Math.Round(lastPoint.Rss / lastPoint.Connections) : null,
            ["rssAboveBaselinePerConnectionAtLastStepBytes"] = points.Count > 0 && lastPoint.Connections > 0 && baseline is { } b
                ? Math.Round((lastPoint.Rss - b) / lastPoint.Connections) : null,
            ["broadcast"] = new JsonObject
            {
                ["rooms"] = settings.Rooms,
                ["expected"] = expected,
                ["connectionsReceived"] = totals.WithMessages,
                ["messagesReceived"] = totals.Received,
                ["allReceived"] = totals.WithMessages >= expected && expected > 0,
                ["secondsToDeliver"] = Math.Round(deliverySeconds, 2),
                ["connectionsAliveAfter"] = totals.Alive,
            },
            ["publishes"] = PublishFigures(),
        };
        return result;
    }

    /// <summary>Least-squares slope of RSS over connections (bytes per connection).</summary>
    internal static double LeastSquaresSlope(IReadOnlyList<(double X, double Y)> points)
    {
        var meanX = points.Average(p => p.X);
        var meanY = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - meanX) * (p.X - meanX));
        var sxy = points.Sum(p => (p.X - meanX) * (p.Y - meanY));
        return sxx == 0 ? 0 : sxy / sxx;
    }

    private async Task<long?> StableRssAsync(CancellationToken ct) => (await StableRssWithTimeAsync(ct)).Rss;

    /// <summary>Samples the server's RSS each second until it moved less than 1% over 3 s (at most 30 s).</summary>
    private async Task<(long? Rss, double Seconds)> StableRssWithTimeAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (settings.ServerPid is null)
        {
            await Task.Delay(2000, ct);
            return (null, 2);
        }
        var samples = new List<long>();
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
            if (ServerMemory.ReadRss(settings.ServerPid) is { } rss)
            {
                samples.Add(rss);
            }
            if (samples.Count >= 4)
            {
                var window = samples.TakeLast(4).ToList();
                if (window.Max() - window.Min() < window.Max() / 100)
                {
                    break;
                }
            }
            await Task.Delay(1000, ct);
        }
        return (samples.Count > 0 ? samples[^1] : null, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>
    /// fanout (<c>--channels</c> channels, one by default, subscribers dealt round robin over them, publishes round
    /// robin over them: every subscriber of a channel gets every message of it) and rooms (CometD's benchmark: each
    /// client in <c>--rooms-per-client</c> random rooms, publishes to random rooms): publish as fast as the
    /// publishers allow (or at <c>--rate</c> in rooms) for <c>--duration</c>, count deliveries, frames and the
    /// server's CPU over the window after a warm-up.
    /// </summary>
    private async Task<JsonObject> ThroughputAsync(bool rooms, CancellationToken ct)
    {
        var roomCount = rooms ? settings.Rooms : settings.Channels;
        var perClient = rooms ? settings.RoomsPerClient : 1;
        var prefix = rooms ? RoomPrefix : FanoutChannel + "/";
        var openSeconds = await OpenUpToAsync(settings.Connections, roomCount, perClient, prefix, recordLatency: rooms, ct);

        // Subscribers per room, computed as the workers chose them, so every publish's expected deliveries are known.
        var subscribers = new int[roomCount];
        for (var i = 0; i < settings.Connections; i++)
        {
            foreach (var channel in WorkerHost.Channels(new WorkerCommand { Rooms = roomCount, RoomsPerClient = perClient, Seed = settings.Seed, ChannelPrefix = "" }, i))
            {
                subscribers[int.Parse(channel, System.Globalization.CultureInfo.InvariantCulture)]++;
            }
        }
        var random = new Random(settings.Seed);
        var rooms0 = new ConcurrentDictionary<string, int>();
        for (var r = 0; r < roomCount; r++)
        {
            rooms0[prefix + r] = subscribers[r];
        }
        Func<long, string> channelOf = rooms
            ? _ => { lock (random) { return prefix + random.Next(roomCount); } }
            : seq => prefix + (seq % roomCount).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var publishers = CreatePublishers();
        try
        {
            Status.Phase = "warm-up";
            await PublishAsync(publishers, channelOf, rate: 0, TimeSpan.FromSeconds(5), 50, null, ct);
            await Task.Delay(1000, ct);
            await ResetCountsAsync(ct);
            var beforeRun = await TotalsAsync(ct);
            Interlocked.Exchange(ref _published, 0);
            Interlocked.Exchange(ref _publishFailed, 0);

            long expectedDeliveries = 0;
            var duration = TimeSpan.FromSeconds(settings.Duration);
            var warmup = TimeSpan.FromSeconds(Math.Min(2, settings.Duration / 5.0));
            Status.Phase = $"publishing for {settings.Duration} s" + (rooms && settings.Rate > 0 ? $" at {settings.Rate}/s" : "");
            var run = PublishAsync(publishers, channelOf, rate: rooms ? settings.Rate : 0, duration, long.MaxValue,
                channel => Interlocked.Add(ref expectedDeliveries, rooms0[channel]), ct);
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(warmup, ct);
            var windowStart = await TotalsAsync(ct);
            var serverCpuAtStart = ProcessCpu.ReadServer(settings.ServerPid);
            var clientCpuAtStart = LoadGeneratorCpu();
            var publishedAtStart = Interlocked.Read(ref _published);
            var windowStarted = Stopwatch.GetTimestamp();
            var remaining = duration - Stopwatch.GetElapsedTime(started);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, ct);
            }
            var windowEnd = await TotalsAsync(ct);
            var serverCpuAtEnd = ProcessCpu.ReadServer(settings.ServerPid);
            var clientCpuAtEnd = LoadGeneratorCpu();
            var publishedAtEnd = Interlocked.Read(ref _published);
            var window = Stopwatch.GetElapsedTime(windowStarted).TotalSeconds;
            await run;

            Status.Phase = "draining";
            var expectedTotal = Interlocked.Read(ref expectedDeliveries);
            var totals = await WaitForDeliveriesAsync(t => t.Received >= expectedTotal, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30), ct);
            var histogram = rooms ? await MergedHistogramAsync(reset: false, ct) : null;
            var result = new JsonObject
            {
                ["connections"] = Connections(totals, openSeconds),
                ["windowSeconds"] = Math.Round(window, 2),
                ["deliveredPerSecond"] = Math.Round((windowEnd.Received - windowStart.Received) / window),
                ["publishesPerSecond"] = Math.Round((publishedAtEnd - publishedAtStart) / window, 1),
                ["publishes"] = PublishFigures(),
                ["expectedDeliveries"] = expectedTotal,
                ["received"] = totals.Received,
                ["missing"] = Math.Max(0, expectedTotal - totals.Received),
                ["droppedDuringRun"] = totals.Dropped - beforeRun.Dropped,
                ["cpu"] = Cpu(serverCpuAtStart, serverCpuAtEnd, clientCpuAtStart, clientCpuAtEnd, windowEnd.Received - windowStart.Received),
                ["framing"] = Framing(windowStart, windowEnd),
            };
            if (!rooms)
            {
                result["channels"] = roomCount;
                result["subscribersPerChannel"] = Math.Round(subscribers.Average(), 1);
            }
            if (rooms)
            {
                result["rooms"] = roomCount;
                result["roomsPerClient"] = perClient;
                result["meanSubscribersPerRoom"] = Math.Round(subscribers.Average(), 1);
                result["latency"] = Percentiles(histogram!);
            }
            return result;
        }
        finally
        {
            await DisposeAllAsync(publishers);
        }
    }

    /// <summary>latency: N subscribers of one channel; publish at <c>--rate</c>; publish-to-receive percentiles.</summary>
    private async Task<JsonObject> LatencyAsync(CancellationToken ct)
    {
        var openSeconds = await OpenUpToAsync(settings.Connections, 1, 1, FanoutChannel + "/", recordLatency: true, ct);
        var channel = FanoutChannel + "/0";
        var publishers = CreatePublishers();
        try
        {
            Status.Phase = "warm-up";
            await PublishAsync(publishers, _ => channel, rate: 10, TimeSpan.FromSeconds(2), 10, null, ct);
            await Task.Delay(1000, ct);
            await ResetCountsAsync(ct);
            Interlocked.Exchange(ref _published, 0);
            Interlocked.Exchange(ref _publishFailed, 0);
            var before = await TotalsAsync(ct);

            Status.Phase = $"publishing {settings.Rate}/s for {settings.Duration} s";
            var serverCpuAtStart = ProcessCpu.ReadServer(settings.ServerPid);
            var clientCpuAtStart = LoadGeneratorCpu();
            await PublishAsync(publishers, _ => channel, Math.Max(0.1, settings.Rate), TimeSpan.FromSeconds(settings.Duration), long.MaxValue, null, ct);
            Status.Phase = "draining";
            var published = Interlocked.Read(ref _published);
            var totals = await WaitForDeliveriesAsync(t => t.Received >= published * t.Alive, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30), ct);
            // Publishing and the drain: every delivery of the run is in the CPU window (idle time too, at 2 msgs/s).
            var serverCpuAtEnd = ProcessCpu.ReadServer(settings.ServerPid);
            var clientCpuAtEnd = LoadGeneratorCpu();
            var histogram = await MergedHistogramAsync(reset: false, ct);
            return new JsonObject
            {
                ["connections"] = Connections(totals, openSeconds),
                ["rate"] = settings.Rate,
                ["publishes"] = PublishFigures(),
                ["expectedDeliveries"] = published * totals.Alive,
                ["received"] = totals.Received,
                ["droppedDuringRun"] = totals.Dropped - before.Dropped,
                ["latency"] = Percentiles(histogram),
                ["cpu"] = Cpu(serverCpuAtStart, serverCpuAtEnd, clientCpuAtStart, clientCpuAtEnd, totals.Received - before.Received),
                ["framing"] = Framing(before, totals),
            };
        }
        finally
        {
            await DisposeAllAsync(publishers);
        }
    }
}
