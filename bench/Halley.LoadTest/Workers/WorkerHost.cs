using System.Diagnostics;
using System.Text.Json;
using HdrHistogram;
using Halley.LoadTest.Protocols;

namespace Halley.LoadTest.Workers;

/// <summary>
/// The worker process: holds its share of the connections and answers the coordinator's JSON-line commands on
/// stdin/stdout. It exits on <c>stop</c>, when stdin closes (the coordinator went away) or after
/// <c>maxSeconds</c>, whichever comes first.
/// </summary>
internal sealed class WorkerHost
{
    /// <summary>Latency is recorded in microseconds, up to one minute.</summary>
    public const long HistogramMax = 60_000_000;

    private readonly List<Group> _groups = [];
    private readonly LongConcurrentHistogram _latency = new(1, HistogramMax, 3);
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private readonly Lock _writeLock = new();
    private readonly CancellationTokenSource _stop = new();
    private int _opened;
    private int _failed;
    private string? _firstError;

    /// <summary>
    /// Buckets of the messages-per-frame histogram, by the most messages they hold: 1, 2, 3–4, 5–8, 9–16, 17–32,
    /// 33–64 and more.
    /// </summary>
    public static readonly string[] FrameBucketNames = ["1", "2", "3-4", "5-8", "9-16", "17-32", "33-64", "65+"];

    /// <summary>The bucket of a frame that carried <paramref name="messages"/> messages.</summary>
    public static int FrameBucket(int messages) =>
        messages <= 1 ? 0 : Math.Min(FrameBucketNames.Length - 1, System.Numerics.BitOperations.Log2((uint)(messages - 1)) + 1);

    /// <summary>
    /// Connections opened by one <c>open</c> command; slot i is connection FirstIndex + i. A connection's callbacks
    /// run one at a time on its receive loop, so its own slots are written without atomics; readers tolerate a
    /// count that is one behind.
    /// </summary>
    private sealed class Group(int count)
    {
        public readonly IPushConnection?[] Connections = new IPushConnection?[count];
        public readonly int[] Counts = new int[count];
        public readonly int[] Frames = new int[count];
        public readonly int[] FrameBuckets = new int[count * FrameBucketNames.Length];
    }

    public async Task<int> RunAsync(int maxSeconds)
    {
        _stop.CancelAfter(TimeSpan.FromSeconds(maxSeconds));
        Write(new WorkerReply { Type = "ready" });
        using var stdin = new StreamReader(Console.OpenStandardInput());
        var running = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var line = await stdin.ReadLineAsync(_stop.Token);
                if (line is null)
                {
                    break; // the coordinator is gone
                }
                if (line.Length == 0)
                {
                    continue;
                }
                var command = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerCommand);
                if (command is null)
                {
                    continue;
                }
                switch (command.Cmd)
                {
                    case "open":
                        running.Add(Task.Run(() => OpenAsync(command)));
                        break;
                    case "stats":
                        Write(Stats(command.Seq));
                        break;
                    case "histogram":
                        Write(Histogram(command.Seq, command.Reset));
                        break;
                    case "reset":
                        Reset();
                        Write(new WorkerReply { Type = "ok", Seq = command.Seq });
                        break;
                    case "stop":
                        await _stop.CancelAsync();
                        await CloseAllAsync();
                        Write(new WorkerReply { Type = "ok", Seq = command.Seq });
                        return 0;
                    default:
                        Write(new WorkerReply { Type = "error", Seq = command.Seq, Message = "unknown command " + command.Cmd });
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        await _stop.CancelAsync();
        await CloseAllAsync();
        return 0;
    }

    private async Task OpenAsync(WorkerCommand command)
    {
        try
        {
            var protocol = ProtocolRegistry.Create(command.Protocol!);
            var target = new Uri(command.Url!);
            var group = new Group(command.Count);
            lock (_groups)
            {
                _groups.Add(group);
            }
            var recordLatency = command.RecordLatency;
            using var gate = new SemaphoreSlim(Math.Max(1, command.Concurrency));
            var tasks = new List<Task>(command.Count);
            for (var i = 0; i < command.Count && !_stop.IsCancellationRequested; i++)
            {
                await gate.WaitAsync(_stop.Token);
                var slot = i;
                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        await OpenOneAsync(protocol, target, group, slot, command, recordLatency);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }
            await Task.WhenAll(tasks);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ArgumentException or UriFormatException)
        {
            Interlocked.CompareExchange(ref _firstError, ex.Message, null);
        }
        var reply = Stats(command.Seq);
        reply.Type = "opened";
        Write(reply);
    }

    private async Task OpenOneAsync(IPushProtocol protocol, Uri target, Group group, int slot, WorkerCommand command, bool recordLatency)
    {
        var counts = group.Counts;
        var frames = group.Frames;
        var buckets = group.FrameBuckets;
        var connection = protocol.CreateConnection(target, data =>
        {
            counts[slot]++;
            if (recordLatency)
            {
                Record(data.Span);
            }
        }, messages =>
        {
            frames[slot]++;
            buckets[slot * FrameBucketNames.Length + FrameBucket(messages)]++;
        });
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await connection.ConnectAsync(timeout.Token);
            foreach (var channel in Channels(command, command.FirstIndex + slot))
            {
                await connection.SubscribeAsync(channel, timeout.Token);
            }
            group.Connections[slot] = connection;
            Interlocked.Increment(ref _opened);
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _firstError, $"{ex.GetType().Name}: {ex.Message}", null);
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// The channels of connection <paramref name="index"/>: with one room per client, rooms are dealt round
    /// robin; with more, each client draws distinct rooms from a generator seeded by its index (reproducible).
    /// </summary>
    internal static IEnumerable<string> Channels(WorkerCommand command, int index)
    {
        var rooms = Math.Max(1, command.Rooms);
        var perClient = Math.Clamp(command.RoomsPerClient, 1, rooms);
        if (perClient == 1)
        {
            yield return command.ChannelPrefix + (index % rooms);
            yield break;
        }
        // Not HashCode.Combine: it is seeded per process, and the coordinator must draw the same rooms as the workers.
        var random = new Random(unchecked(command.Seed * 1_000_003 + index));
        var chosen = new HashSet<int>();
        while (chosen.Count < perClient)
        {
            var room = random.Next(rooms);
            if (chosen.Add(room))
            {
                yield return command.ChannelPrefix + room;
            }
        }
    }

    private void Record(ReadOnlySpan<byte> data)
    {
        var now = Stopwatch.GetTimestamp();
        if (Payload.TryReadTimestamp(data, out var sent))
        {
            var micros = (now - sent) * 1_000_000 / Stopwatch.Frequency;
            _latency.RecordValue(Math.Clamp(micros, 1, HistogramMax));
        }
    }

    private WorkerReply Stats(int seq)
    {
        var reply = new WorkerReply { Type = "stats", Seq = seq, Opened = Volatile.Read(ref _opened), Failed = Volatile.Read(ref _failed), FirstError = _firstError };
        long received = 0;
        long frames = 0;
        var buckets = new long[FrameBucketNames.Length];
        var withMessages = 0;
        var dropped = 0;
        Group[] groups;
        lock (_groups)
        {
            groups = [.. _groups];
        }
        foreach (var group in groups)
        {
            for (var i = 0; i < group.Counts.Length; i++)
            {
                var count = Volatile.Read(ref group.Counts[i]);
                received += count;
                frames += Volatile.Read(ref group.Frames[i]);
                for (var b = 0; b < buckets.Length; b++)
                {
                    buckets[b] += Volatile.Read(ref group.FrameBuckets[i * buckets.Length + b]);
                }
                if (count > 0)
                {
                    withMessages++;
                }
                if (Volatile.Read(ref group.Connections[i]) is IPushConnectionState { IsClosed: true } state)
                {
                    dropped++;
                    reply.FirstDropReason ??= state.CloseReason;
                }
            }
        }
        reply.Received = received;
        reply.Frames = frames;
        reply.FrameBuckets = buckets;
        reply.ConnectionsWithMessages = withMessages;
        reply.Dropped = dropped;
        reply.WorkingSet = Environment.WorkingSet;
        return reply;
    }

    private WorkerReply Histogram(int seq, bool reset)
    {
        var copy = _latency.Copy();
        if (reset)
        {
            _latency.Reset();
        }
        // Raw counts, sparse: [value, count, value, count, …] of every recorded bucket; merged exactly by the coordinator.
        var pairs = new List<long>();
        foreach (var bucket in copy.RecordedValues())
        {
            pairs.Add(bucket.ValueIteratedTo);
            pairs.Add(bucket.CountAtValueIteratedTo);
        }
        return new WorkerReply { Type = "histogram", Seq = seq, Histogram = [.. pairs] };
    }

    /// <summary>Adds a worker's <see cref="WorkerReply.Histogram"/> counts into <paramref name="target"/>.</summary>
    public static void AddCounts(HistogramBase target, long[] pairs)
    {
        for (var i = 0; i + 1 < pairs.Length; i += 2)
        {
            target.RecordValueWithCount(Math.Clamp(pairs[i], 1, HistogramMax), pairs[i + 1]);
        }
    }

    private void Reset()
    {
        lock (_groups)
        {
            foreach (var group in _groups)
            {
                Array.Clear(group.Counts);
                Array.Clear(group.Frames);
                Array.Clear(group.FrameBuckets);
            }
        }
        _latency.Reset();
    }

    private async Task CloseAllAsync()
    {
        List<IPushConnection> all = [];
        lock (_groups)
        {
            foreach (var group in _groups)
            {
                all.AddRange(group.Connections.OfType<IPushConnection>());
            }
            _groups.Clear();
        }
        // Bounded: closing is best effort and must not keep the worker alive.
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync())
            .WaitAsync(TimeSpan.FromSeconds(15))
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private void Write(WorkerReply reply)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(reply, WorkerJson.Default.WorkerReply);
        lock (_writeLock)
        {
            _stdout.Write(bytes);
            _stdout.WriteByte((byte)'\n');
            _stdout.Flush();
        }
    }
}
