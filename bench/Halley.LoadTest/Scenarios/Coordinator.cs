using System.Diagnostics;
using System.Text.Json.Nodes;
using HdrHistogram;
using Halley.LoadTest.Protocols;
using Halley.LoadTest.Reporting;
using Halley.LoadTest.Workers;

namespace Halley.LoadTest.Scenarios;

/// <summary>
/// The <c>run</c> command: starts the workers, deals them their connections, drives the scenario's publishers
/// from this process and aggregates what the workers counted.
/// </summary>
internal sealed partial class Coordinator(RunSettings settings, ProgressView view)
{
    private const string FanoutChannel = "/loadtest/fanout";
    private const string RoomPrefix = "/loadtest/room/";

    private readonly List<WorkerProcess> _workers = [];
    private int[] _assigned = [];
    private int _nextIndex;
    private long _published;
    private long _publishFailed;
    private string? _firstPublishError;

    private LiveStatus Status => view.Status;

    /// <summary>Runs the scenario; returns its measured figures (the <c>results</c> object of the JSON).</summary>
    public async Task<JsonObject> RunAsync(CancellationToken cancellationToken)
    {
        // Workers stop by themselves well after the run would have ended.
        var maxSeconds = 600 + settings.Duration * 3 + settings.Steps.Length * 120;
        Status.Phase = $"starting {settings.Workers} workers";
        try
        {
            for (var i = 0; i < settings.Workers; i++)
            {
                _workers.Add(await WorkerProcess.StartAsync(i, maxSeconds, view.Log, cancellationToken));
            }
            _assigned = new int[settings.Workers];
            using var monitorStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var monitor = Task.Run(() => MonitorAsync(monitorStop.Token), CancellationToken.None);
            try
            {
                return settings.Scenario switch
                {
                    "idle" => await IdleAsync(cancellationToken),
                    "fanout" => await ThroughputAsync(rooms: false, cancellationToken),
                    "latency" => await LatencyAsync(cancellationToken),
                    "rooms" => await ThroughputAsync(rooms: true, cancellationToken),
                    _ => throw new ArgumentException("unknown scenario " + settings.Scenario),
                };
            }
            finally
            {
                await monitorStop.CancelAsync();
                await monitor.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            Status.Phase = "stopping workers";
            await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask()));
        }
    }

    // ---- connections -------------------------------------------------------------------------------------

    /// <summary>Opens connections until <paramref name="target"/> have been dealt, spread evenly over the workers.</summary>
    private async Task<double> OpenUpToAsync(int target, int rooms, int roomsPerClient, string prefix, bool recordLatency, CancellationToken ct)
    {
        Status.Target = target;
        Status.Phase = $"opening connections up to {target:N0}";
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task<WorkerReply>>();
        var workers = _workers.Count;
        for (var i = 0; i < workers; i++)
        {
            var share = target / workers + (i < target % workers ? 1 : 0);
            var count = share - _assigned[i];
            if (count <= 0)
            {
                continue;
            }
            _assigned[i] = share;
            var command = new WorkerCommand
            {
                Cmd = "open",
                Protocol = settings.Protocol,
                Url = settings.Url,
                Count = count,
                FirstIndex = _nextIndex,
                Rooms = rooms,
                RoomsPerClient = roomsPerClient,
                ChannelPrefix = prefix,
                Seed = settings.Seed,
                Concurrency = settings.OpenConcurrency,
                RecordLatency = recordLatency,
            };
            _nextIndex += count;
            tasks.Add(_workers[i].RequestAsync(command, ct, TimeSpan.FromMinutes(10)));
        }
        var replies = await Task.WhenAll(tasks);
        foreach (var reply in replies.Where(r => r.FirstError is not null).Take(1))
        {
            view.Log("first connection error: " + reply.FirstError);
        }
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private sealed record Totals(int Opened, int Failed, int Dropped, long Received, int WithMessages, long WorkingSet, string? FirstError, string? FirstDropReason,
        long Frames, long[] FrameBuckets)
    {
        public int Alive => Opened - Dropped;
    }

    private async Task<Totals> TotalsAsync(CancellationToken ct)
    {
        var replies = await Task.WhenAll(_workers.Select(w => w.StatsAsync(ct)));
        return Sum(replies);
    }

    private static Totals Sum(IEnumerable<WorkerReply> replies)
    {
        var list = replies.ToList();
        var buckets = new long[WorkerHost.FrameBucketNames.Length];
        foreach (var reply in list)
        {
            for (var b = 0; b < buckets.Length && b < (reply.FrameBuckets?.Length ?? 0); b++)
            {
                buckets[b] += reply.FrameBuckets![b];
            }
        }
        return new Totals(list.Sum(r => r.Opened), list.Sum(r => r.Failed), list.Sum(r => r.Dropped), list.Sum(r => r.Received),
            list.Sum(r => r.ConnectionsWithMessages), list.Sum(r => r.WorkingSet),
            list.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            list.Select(r => r.FirstDropReason).FirstOrDefault(e => e is not null),
            list.Sum(r => r.Frames), buckets);
    }

    private Task ResetCountsAsync(CancellationToken ct) =>
        Task.WhenAll(_workers.Select(w => w.RequestAsync(new WorkerCommand { Cmd = "reset" }, ct)));

    private async Task<HistogramBase> MergedHistogramAsync(bool reset, CancellationToken ct)
    {
        var replies = await Task.WhenAll(_workers.Select(w => w.RequestAsync(new WorkerCommand { Cmd = "histogram", Reset = reset }, ct)));
        var merged = new LongHistogram(1, WorkerHost.HistogramMax, 3);
        foreach (var reply in replies)
        {
            if (reply.Histogram is { } counts)
            {
                WorkerHost.AddCounts(merged, counts);
            }
        }
        return merged;
    }

    /// <summary>The load generator's CPU: this process and its workers.</summary>
    private ProcessCpu.Sample LoadGeneratorCpu() =>
        ProcessCpu.ReadAll([Environment.ProcessId, .. _workers.Select(w => w.ProcessId)]);

    /// <summary>Polls the workers and the server once a second for the live display.</summary>
    private async Task MonitorAsync(CancellationToken ct)
    {
        long lastReceived = 0;
        long lastFrames = 0;
        var lastServerCpu = ProcessCpu.ReadServer(settings.ServerPid);
        var lastClientCpu = LoadGeneratorCpu();
        var last = Stopwatch.GetTimestamp();
        var ticks = 0;
        while (!ct.IsCancellationRequested && ticks++ < 1_000_000)
        {
            try
            {
                await Task.Delay(1000, ct);
                var totals = await TotalsAsync(ct);
                var now = Stopwatch.GetTimestamp();
                var seconds = Stopwatch.GetElapsedTime(last, now).TotalSeconds;
                Status.MessagesPerSecond = totals.Received >= lastReceived ? (totals.Received - lastReceived) / seconds : 0;
                Status.MessagesPerFrame = totals.Frames > lastFrames && totals.Received >= lastReceived
                    ? (totals.Received - lastReceived) / (double)(totals.Frames - lastFrames) : null;
                lastReceived = totals.Received;
                lastFrames = totals.Frames;
                last = now;
                var serverCpu = ProcessCpu.ReadServer(settings.ServerPid);
                Status.ServerCpuPercent = serverCpu is { } sc && lastServerCpu is { } lc ? sc.PercentSince(lc) : null;
                Status.ServerCpuMicrosPerMessage = serverCpu is { } sc2 && lastServerCpu is { } lc2 && Status.MessagesPerSecond > 0
                    ? sc2.CpuSecondsSince(lc2) * 1e6 / (Status.MessagesPerSecond * sc2.SecondsSince(lc2)) : null;
                lastServerCpu = serverCpu;
                var clientCpu = LoadGeneratorCpu();
                Status.LoadGeneratorCpuPercent = clientCpu.PercentSince(lastClientCpu);
                lastClientCpu = clientCpu;
                Status.Opened = totals.Opened;
                Status.Failed = totals.Failed;
                Status.Dropped = totals.Dropped;
                Status.Received = totals.Received;
                Status.ClientWorkingSet = totals.WorkingSet;
                Status.Published = Interlocked.Read(ref _published);
                Status.ServerRss = ServerMemory.ReadRss(settings.ServerPid);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                view.Log("monitor: " + ex.Message);
            }
        }
    }

    // ---- publishing --------------------------------------------------------------------------------------

    /// <summary>
    /// Publishes for <paramref name="duration"/> (or <paramref name="maxCount"/> publishes), at <paramref name="rate"/>
    /// per second or as fast as the publishers allow when <paramref name="rate"/> is 0; waits for the last replies
    /// before returning. <paramref name="onPublished"/> gets the channel of each accepted publish. Over HTTP each
    /// publisher awaits its own answer before its next request; over sessions <c>--in-flight</c> publishes are
    /// outstanding at once, dealt round robin over the publishers.
    /// </summary>
    private Task PublishAsync(IPushPublisher[] publishers, Func<long, string> channelOf, double rate, TimeSpan duration,
        long maxCount, Action<string>? onPublished, CancellationToken ct) =>
        settings.PublishesOverHttp
            ? PublishInTurnAsync(publishers, channelOf, rate, duration, maxCount, onPublished, ct)
            : PublishInFlightAsync(publishers, channelOf, rate, duration, maxCount, onPublished, ct);

    /// <summary>
    /// Each publisher in a loop of its own: take the next sequence number, wait until it is due (with a rate), publish,
    /// await the answer, repeat. One publisher is one backend publishing in order; N publishers are N such backends.
    /// </summary>
    private async Task PublishInTurnAsync(IPushPublisher[] publishers, Func<long, string> channelOf, double rate, TimeSpan duration,
        long maxCount, Action<string>? onPublished, CancellationToken ct)
    {
        long next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(publishers.Select(publisher => Task.Run(async () =>
        {
            // Bounded by maxCount and the duration.
            while (!ct.IsCancellationRequested)
            {
                var seq = Interlocked.Increment(ref next);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (seq >= maxCount || elapsed >= duration)
                {
                    return;
                }
                if (rate > 0)
                {
                    var due = TimeSpan.FromSeconds(seq / rate);
                    if (due >= duration)
                    {
                        return;
                    }
                    if (due > elapsed)
                    {
                        await Task.Delay(due - elapsed, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    }
                }
                var channel = channelOf(seq);
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await publisher.PublishAsync(channel, Payload.Create(seq, settings.PayloadBytes), timeout.Token);
                    Interlocked.Increment(ref _published);
                    onPublished?.Invoke(channel);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _publishFailed);
                    Interlocked.CompareExchange(ref _firstPublishError, $"{ex.GetType().Name}: {ex.Message}", null);
                    // A server that refuses every publish must not be hammered in a tight loop.
                    await Task.Delay(10, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }, CancellationToken.None)));
    }

    private async Task PublishInFlightAsync(IPushPublisher[] publishers, Func<long, string> channelOf, double rate, TimeSpan duration,
        long maxCount, Action<string>? onPublished, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(settings.InFlight);
        var started = Stopwatch.GetTimestamp();
        for (long seq = 0; seq < maxCount; seq++)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed >= duration || ct.IsCancellationRequested)
            {
                break;
            }
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds(seq / rate);
                if (due >= duration)
                {
                    break;
                }
                if (due > elapsed)
                {
                    await Task.Delay(due - elapsed, ct);
                }
            }
            await gate.WaitAsync(ct);
            var channel = channelOf(seq);
            var publisher = publishers[seq % publishers.Length];
            var payload = Payload.Create(seq, settings.PayloadBytes);
            _ = Task.Run(async () =>
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await publisher.PublishAsync(channel, payload, timeout.Token);
                    Interlocked.Increment(ref _published);
                    onPublished?.Invoke(channel);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _publishFailed);
                    Interlocked.CompareExchange(ref _firstPublishError, $"{ex.GetType().Name}: {ex.Message}", null);
                }
                finally
                {
                    gate.Release();
                }
            }, CancellationToken.None);
        }
        // Drain: take every slot back (bounded by the publish timeout).
        for (var i = 0; i < settings.InFlight; i++)
        {
            await gate.WaitAsync(TimeSpan.FromSeconds(35), CancellationToken.None);
        }
    }

    private IPushPublisher[] CreatePublishers()
    {
        var protocol = ProtocolRegistry.Create(settings.Protocol);
        var target = new Uri(settings.Url);
        return [.. Enumerable.Range(0, Math.Max(1, settings.Publishers))
            .Select(_ => settings.PublishesOverHttp ? protocol.CreateHttpPublisher(target) : protocol.CreatePublisher(target))];
    }

    private static async Task DisposeAllAsync(IEnumerable<IPushPublisher> publishers)
    {
        foreach (var publisher in publishers)
        {
            await publisher.DisposeAsync();
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds or the received count stops growing for <paramref name="quiet"/>.</summary>
    private async Task<Totals> WaitForDeliveriesAsync(Func<Totals, bool> done, TimeSpan quiet, TimeSpan max, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var totals = await TotalsAsync(ct);
        var lastChange = Stopwatch.GetTimestamp();
        var lastReceived = totals.Received;
        while (!done(totals) && Stopwatch.GetElapsedTime(started) < max && Stopwatch.GetElapsedTime(lastChange) < quiet)
        {
            await Task.Delay(250, ct);
            totals = await TotalsAsync(ct);
            if (totals.Received != lastReceived)
            {
                lastReceived = totals.Received;
                lastChange = Stopwatch.GetTimestamp();
            }
        }
        return totals;
    }

    private JsonObject Connections(Totals totals, double openSeconds) => new()
    {
        ["requested"] = settings.Connections,
        ["opened"] = totals.Opened,
        ["failed"] = totals.Failed,
        ["dropped"] = totals.Dropped,
        ["openSeconds"] = Math.Round(openSeconds, 2),
        ["firstError"] = totals.FirstError,
        ["firstDropReason"] = totals.FirstDropReason,
        ["workersWorkingSetBytes"] = totals.WorkingSet,
    };

    private JsonObject PublishFigures() => new()
    {
        ["accepted"] = Interlocked.Read(ref _published),
        ["failed"] = Interlocked.Read(ref _publishFailed),
        ["firstError"] = _firstPublishError,
    };

    /// <summary>Messages per frame between two totals: the mean and the histogram of frames by messages carried.</summary>
    private static JsonObject Framing(Totals start, Totals end)
    {
        var frames = end.Frames - start.Frames;
        var messages = end.Received - start.Received;
        var histogram = new JsonObject();
        for (var b = 0; b < WorkerHost.FrameBucketNames.Length; b++)
        {
            histogram[WorkerHost.FrameBucketNames[b]] = end.FrameBuckets[b] - start.FrameBuckets[b];
        }
        return new JsonObject
        {
            ["frames"] = frames,
            ["messages"] = messages,
            ["meanMessagesPerFrame"] = frames > 0 ? Math.Round(messages / (double)frames, 2) : null,
            ["framesByMessages"] = histogram,
        };
    }

    /// <summary>Server and load-generator CPU between two readings, per delivery.</summary>
    private static JsonObject Cpu(ProcessCpu.Sample? serverStart, ProcessCpu.Sample? serverEnd, ProcessCpu.Sample clientStart,
        ProcessCpu.Sample clientEnd, long deliveries)
    {
        var result = new JsonObject { ["clockTicksPerSecond"] = ProcessCpu.TicksPerSecond };
        if (serverStart is { } s0 && serverEnd is { } s1)
        {
            var seconds = s1.CpuSecondsSince(s0);
            result["serverCpuSeconds"] = Math.Round(seconds, 2);
            result["serverCpuPercent"] = Math.Round(s1.PercentSince(s0), 1);
            result["serverCpuMicrosPerDelivery"] = deliveries > 0 ? Math.Round(seconds * 1e6 / deliveries, 3) : null;
            result["serverProcesses"] = s1.Processes;
        }
        var client = clientEnd.CpuSecondsSince(clientStart);
        result["loadGeneratorCpuSeconds"] = Math.Round(client, 2);
        result["loadGeneratorCpuPercent"] = Math.Round(clientEnd.PercentSince(clientStart), 1);
        result["loadGeneratorCpuMicrosPerDelivery"] = deliveries > 0 ? Math.Round(client * 1e6 / deliveries, 3) : null;
        result["windowSeconds"] = Math.Round(clientEnd.SecondsSince(clientStart), 2);
        return result;
    }

    internal static JsonObject Percentiles(HistogramBase histogram)
    {
        static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
        return new JsonObject
        {
            ["samples"] = histogram.TotalCount,
            ["p50Ms"] = Ms(histogram.GetValueAtPercentile(50)),
            ["p90Ms"] = Ms(histogram.GetValueAtPercentile(90)),
            ["p99Ms"] = Ms(histogram.GetValueAtPercentile(99)),
            ["p999Ms"] = Ms(histogram.GetValueAtPercentile(99.9)),
            ["maxMs"] = Ms(histogram.GetMaxValue()),
            ["meanMs"] = Math.Round(histogram.GetMean() / 1000.0, 3),
        };
    }
}
