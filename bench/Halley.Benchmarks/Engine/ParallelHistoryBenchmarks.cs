using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// Whether publishes to different channels with history serialize: the same <see cref="PublishesPerInvocation"/>
/// 100-byte publishes spread evenly over <see cref="Channels"/> channels that each keep a history (one real
/// <see cref="BayeuxSession"/> subscribed to each, so every publish is fanned out), done by one thread (the
/// baseline) and by two threads taking half each. Reported per publish: on two cores, a two-thread time clearly
/// below the one-thread time means the two publishers ran in parallel; the same time means they took turns.
/// </summary>
/// <remarks>
/// <para>Publish number i goes to channel i mod 100. With two threads, the calling thread publishes the even
/// numbers and a dedicated worker thread (started in the global setup, woken by a semaphore, so no thread is
/// created in the measurement) the odd ones: each thread has its own 50 channels, and the two never need the same
/// channel's lock. Before 02f50d7 the engine took one process-wide lock for every publish to a channel with
/// history, through its whole fan-out; since, the in-memory engine takes the channel's lock for the position and
/// the append, and the hub fans positioned messages out one at a time in position order (under its own gate), so
/// the fan-out part is still one at a time by design.</para>
/// <para>40,000 publishes per invocation (one invocation per iteration): with 4,000, waking the second thread (a
/// scheduler wake-up, up to milliseconds on a loaded machine) was a visible share of an invocation.
/// <c>--parallel-ab</c> (<see cref="ParallelHistoryInterleaved"/>) runs the two methods in alternating iterations of
/// one process, next to a control that shows what a second thread can gain on the machine at that moment.</para>
/// <para>An invocation ends when both threads have published and the node has been handed every message
/// (<see cref="MessageHub.Top"/> reached the last position): a message still waiting in the engine's ring for
/// another thread to hand it on is not done. The history is filled to its size in the global setup, so every
/// measured publish also evicts one message. Queues are drained in <see cref="DrainAll"/>, outside the
/// measurement, and grown beforehand past what an iteration enqueues; every iteration starts after a full
/// collection (as in <see cref="HistoryBenchmarks"/>).</para>
/// <para>The drain verifies the work (<see cref="Verification"/>): every session received exactly the publishes to
/// its channel since the last drain, on its channel, in increasing position order; the node's position moved by
/// exactly the publishes; every channel still holds <see cref="HistorySize"/> messages.</para>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(InvocationsPerIteration, 1)]
public class ParallelHistoryBenchmarks
{
    public const int Channels = 100;
    public const int PublishesPerInvocation = 40_000;
    public const int InvocationsPerIteration = 1;
    public const int HistorySize = 100;
    private const string ChannelPrefix = "/bench/rooms/";

    private readonly List<EncodedMessage> _drained = new(InvocationsPerIteration * PublishesPerInvocation / Channels * 2);
    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private ReadOnlyMemory<byte> _data;
    private EngineFixture _fixture = null!;
    private string[] _channels = null!;
    private BayeuxSession[] _sessions = null!;
    private Thread _worker = null!;
    private volatile bool _stop;
    private volatile bool _control;
    private long _controlSink;
    private Exception? _workerFailure;

    // Invocations since the last drain (incremented on the calling thread, after the work), the node's position at
    // the last drain, and the publishes whose delivery was verified since the global setup.
    private int _invocations;
    private long _top;
    private long _verified;
    private string _ran = nameof(OneThread);

    [GlobalSetup]
    public void Setup()
    {
        _data = FanOutBenchmarks.Payload(100);
        var options = new HalleyOptions { MaxQueue = 1_000_000 };
        options.History.Channels[ChannelPrefix + "*"] = new HistoryRule { Size = HistorySize, Ttl = TimeSpan.FromHours(1) };
        _fixture = new EngineFixture(options);
        _channels = new string[Channels];
        _sessions = new BayeuxSession[Channels];
        for (var c = 0; c < Channels; c++)
        {
            _channels[c] = ChannelPrefix + c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _sessions[c] = _fixture.Subscribe(_channels[c]);
            if (!_sessions[c].AttachPushTarget(NullPushTarget.Instance))
            {
                throw new InvalidOperationException("A session refused its push target.");
            }
        }
        _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "second publisher" };
        _worker.Start();
        _top = _fixture.Engine.Top.Offset;
        // Fill every history to its size and grow every queue past what an iteration enqueues, then empty them.
        var warm = Math.Max(HistorySize * Channels, 2 * InvocationsPerIteration * PublishesPerInvocation);
        for (var i = 0; i < warm / PublishesPerInvocation; i++)
        {
            TwoThreads();
        }
        DrainAll();
        _verified = 0;
        if (_fixture.InMemoryEngine.HistorySize != (Channels, (long)Channels * HistorySize))
        {
            throw new InvalidOperationException($"The histories hold {_fixture.InMemoryEngine.HistorySize}, not {Channels} channels of {HistorySize}.");
        }
    }

    /// <summary>All the publishes on the calling thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = PublishesPerInvocation)]
    public void OneThread()
    {
        _ran = nameof(OneThread);
        PublishEvery(0, 1);
        AwaitHandedOn();
        _invocations++;
    }

    /// <summary>Half the publishes (the even numbers) on the calling thread, the other half on the worker, at once.</summary>
    [Benchmark(OperationsPerInvoke = PublishesPerInvocation)]
    public void TwoThreads()
    {
        _ran = nameof(TwoThreads);
        _go.Release();
        PublishEvery(0, 2);
        _done.Wait();
        if (_workerFailure is { } failure)
        {
            throw new InvalidOperationException("The second publisher failed.", failure);
        }
        AwaitHandedOn();
        _invocations++;
    }

    /// <summary>
    /// Empties every queue, outside the measurement, and checks the work: each session received exactly the
    /// publishes to its channel since the last drain, in increasing position order; the node's position moved by
    /// exactly the publishes; every history still holds <see cref="HistorySize"/> messages.
    /// </summary>
    [IterationCleanup]
    public void DrainAll()
    {
        var published = (long)_invocations * PublishesPerInvocation;
        var perChannel = published / Channels;
        var key = Verification.Key(nameof(ParallelHistoryBenchmarks), _ran);
        for (var c = 0; c < Channels; c++)
        {
            _sessions[c].Drain(NullPushTarget.Instance, _drained);
            var onChannel = 0;
            var ordered = true;
            var last = 0L;
            foreach (var message in _drained)
            {
                onChannel += message.Channel == _channels[c] ? 1 : 0;
                var offset = message.Position?.Offset ?? 0;
                ordered &= offset > last;
                last = offset;
            }
            var received = _drained.Count;
            _drained.Clear();
            if (received != perChannel || onChannel != received || !ordered)
            {
                throw Verification.Failed(key,
                    $"the session of {_channels[c]} received {received} messages ({onChannel} on its channel, {(ordered ? "in" : "out of")} position order) of {perChannel} published to it");
            }
        }
        Verification.Require(key, _fixture.Registry.Count == Channels, "A session was dropped: the queues are not being kept from filling.");
        var top = _fixture.Engine.Top.Offset;
        Verification.Require(key, top - _top == published, $"the node's position moved by {top - _top} for {published} publishes");
        Verification.Require(key, published == 0 || _fixture.InMemoryEngine.HistorySize == (Channels, (long)Channels * HistorySize),
            $"the histories hold {_fixture.InMemoryEngine.HistorySize}, not {Channels} channels of {HistorySize}");
        _top = top;
        _invocations = 0;
        _verified += published;
        GC.Collect();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            // Each case runs on its own instance: the method that ran last (after the setup's) is the one measured.
            DrainAll();
            if (_verified > 0)
            {
                Verification.Passed(Verification.Key(nameof(ParallelHistoryBenchmarks), _ran),
                    $"{_verified} publishes over {Channels} channels, each received once and in order by its channel's session");
            }
        }
        finally
        {
            _stop = true;
            _go.Release();
            _worker.Join();
            _fixture.Dispose();
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _go.Wait();
            if (_stop)
            {
                return;
            }
            try
            {
                if (_control)
                {
                    EncodeEvery(1, 2);
                }
                else
                {
                    PublishEvery(1, 2);
                }
            }
            catch (Exception e)
            {
                _workerFailure = e;
            }
            _done.Release();
        }
    }

    /// <summary>
    /// The control of <see cref="ParallelHistoryInterleaved"/>: the part of the same publishes that needs no engine
    /// (encoding the event and wrapping it), on one thread; it shows how much a second thread can gain on the machine
    /// at that moment.
    /// </summary>
    internal void ControlOneThread() => EncodeEvery(0, 1);

    /// <summary>The control on two threads, split as <see cref="TwoThreads"/> splits the publishes.</summary>
    internal void ControlTwoThreads()
    {
        _control = true;
        _go.Release();
        EncodeEvery(0, 2);
        _done.Wait();
        _control = false;
        if (_workerFailure is { } failure)
        {
            throw new InvalidOperationException("The second thread failed.", failure);
        }
    }

    private void EncodeEvery(int first, int step)
    {
        var length = 0L;
        for (var i = first; i < PublishesPerInvocation; i += step)
        {
            var channel = _channels[i % Channels];
            length += EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, _data.Span, default)).Channel.Length;
        }
        Interlocked.Add(ref _controlSink, length);
    }

    /// <summary>Publishes numbers <paramref name="first"/>, first + step, … below <see cref="PublishesPerInvocation"/>, number i to channel i mod 100.</summary>
    private void PublishEvery(int first, int step)
    {
        var engine = _fixture.Engine;
        for (var i = first; i < PublishesPerInvocation; i += step)
        {
            var publish = engine.PublishAsync(_channels[i % Channels], _data, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            if (!publish.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The publish did not complete synchronously.");
            }
        }
    }

    /// <summary>Waits until the node has been handed every message published so far (another thread, or the thread pool, may still be handing some on).</summary>
    private void AwaitHandedOn()
    {
        var expected = _top + (long)(_invocations + 1) * PublishesPerInvocation;
        // Spin and yield, never Sleep(1): the wait should end when the last message is handed on, not a timer tick later.
        var spin = new SpinWait();
        while (_fixture.Engine.Top.Offset < expected)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
