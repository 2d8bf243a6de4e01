using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// What keeping a history costs a publish: the same 100-byte publish to the same channel with N real
/// <see cref="BayeuxSession"/> subscribers, on an engine with no history rule (the baseline) and on one whose rule
/// keeps the channel's last 1,000 messages. The ratio column is the cost: the sequencer lock, the position, the
/// re-encoded frame that carries it, and the append.
/// </summary>
/// <remarks>
/// The two engines are set up side by side and deliver to the same N sessions (each is subscribed on both), so the
/// two methods differ by history alone and not by where their subscribers sit in memory: with a set of sessions
/// per engine, which engine fanned out faster at N = 1,000 changed between runs by ±10%, far more than history
/// costs. They are kept in the same steady state as
/// <see cref="FanOutBenchmarks"/> (queues drained in <see cref="DrainAll"/>, outside the measurement, and grown
/// beforehand so no measured publish grows one); the history is filled to its size first, so every measured
/// publish also evicts one message, as on a server that has been running. 4,096 publishes per iteration make an
/// iteration of the N = 0 case a few milliseconds long (a publish with no subscriber takes about a microsecond).
/// Every iteration starts after a full collection (in <see cref="DrainAll"/>): with 1,000 sessions whose queues
/// each hold 4,096 references, one young-generation collection has that many references to scan and takes tens
/// of milliseconds, a cost of this harness (a server's transports drain queues as they fill) that otherwise lands
/// in some iterations and not others and swamps a difference of a fraction of a microsecond. What history leaves
/// to the collector is in the Allocated column and, for what it keeps alive, in <c>--history-memory</c>.
/// The drain also verifies the work (see <see cref="DrainAll"/> and <see cref="Verification"/>): every session
/// received every publish, and the history engine gave each publish a position and kept its size.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(PublishesPerIteration)]
public class HistoryBenchmarks
{
    public const int PublishesPerIteration = 4096;
    public const int HistorySize = 1000;
    private const string Channel = "/market/fx/quotes/eurusd";

    private readonly List<EncodedMessage> _drained = new(PublishesPerIteration * 2);
    private ReadOnlyMemory<byte> _data;
    private EngineFixture _withHistory = null!;
    private EngineFixture _withoutHistory = null!;
    private List<BayeuxSession> _sessions = null!;

    // Publishes since the last drain (one increment per operation: no allocation), the history engine's last
    // position at the last drain, and publishes whose delivery was verified since the global setup.
    private int _offPublished;
    private int _onPublished;
    private long _historyTop;
    private long _offVerified;
    private long _onVerified;

    [Params(0, 1_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = FanOutBenchmarks.Payload(100);
        _withoutHistory = new EngineFixture(new HalleyOptions { MaxQueue = 1_000_000 });
        var options = new HalleyOptions { MaxQueue = 1_000_000 };
        options.History.Channels[Channel] = new HistoryRule { Size = HistorySize, Ttl = TimeSpan.FromHours(1) };
        _withHistory = new EngineFixture(options);
        _sessions = new List<BayeuxSession>(N);
        for (var i = 0; i < N; i++)
        {
            // The same session subscribed on both engines: see the remarks.
            var session = _withoutHistory.Subscribe(Channel);
            _withHistory.Subscribe(Channel, session);
            if (!session.AttachPushTarget(NullPushTarget.Instance))
            {
                throw new InvalidOperationException("A session refused its push target.");
            }
            _sessions.Add(session);
        }
        _historyTop = _withHistory.Engine.Top.Offset;
        // Grow every queue past what one iteration enqueues, then empty it; fill the history to its size.
        for (var i = 0; i < Math.Max(2 * PublishesPerIteration, HistorySize); i++)
        {
            HistoryOff();
            HistoryOn();
        }
        DrainAll();
        _offVerified = 0;
        _onVerified = 0;
        if (_withHistory.InMemoryEngine.HistorySize.Messages != HistorySize || _withoutHistory.Engine.HasHistory)
        {
            throw new InvalidOperationException("The engines are not set up as described.");
        }
    }

    /// <summary>
    /// Empties every queue, outside the measurement, and checks the work: each session received exactly the
    /// publishes of both engines since the last drain, all on the channel; the history engine's position moved by
    /// exactly its publishes and it still holds <see cref="HistorySize"/> messages; the other engine keeps none.
    /// </summary>
    [IterationCleanup]
    public void DrainAll()
    {
        var off = _offPublished;
        var on = _onPublished;
        // Which benchmark a failure is reported under: the one that published (both do in the global setup).
        var key = Key(on > 0 ? nameof(HistoryOn) : nameof(HistoryOff));
        foreach (var session in _sessions)
        {
            session.Drain(NullPushTarget.Instance, _drained);
            var received = _drained.Count;
            var onChannel = 0;
            foreach (var message in _drained)
            {
                onChannel += message.Channel == Channel ? 1 : 0;
            }
            _drained.Clear();
            if (received != off + on || onChannel != received)
            {
                throw Verification.Failed(key, $"a session received {received} messages ({onChannel} on {Channel}) of {off + on} published");
            }
        }
        if (_withoutHistory.Registry.Count != _sessions.Count)
        {
            throw Verification.Failed(key, "A session was dropped: the queues are not being kept from filling.");
        }
        var top = _withHistory.Engine.Top.Offset;
        Verification.Require(key, top - _historyTop == on, $"the history engine gave {top - _historyTop} positions to {on} publishes");
        Verification.Require(key, on == 0 || _withHistory.InMemoryEngine.HistorySize.Messages == Math.Min(HistorySize, top),
            $"the history holds {_withHistory.InMemoryEngine.HistorySize.Messages} messages, not {Math.Min(HistorySize, top)}");
        Verification.Require(key, !_withoutHistory.Engine.HasHistory, "the engine without a rule keeps a history");
        _historyTop = top;
        _offPublished = 0;
        _onPublished = 0;
        _offVerified += off;
        _onVerified += on;
        // Start every iteration with an empty young generation: see the remarks.
        GC.Collect();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            DrainAll();
            // Each case runs on its own instance: record a pass for the method that ran (and published).
            if (_offVerified > 0)
            {
                Verification.Passed(Key(nameof(HistoryOff)), $"{_offVerified} publishes, each received once by each of {N} sessions");
            }
            if (_onVerified > 0)
            {
                Verification.Passed(Key(nameof(HistoryOn)),
                    $"{_onVerified} publishes, each given a position and received once by each of {N} sessions, history kept at {HistorySize}");
            }
        }
        finally
        {
            _withHistory.Dispose();
            _withoutHistory.Dispose();
        }
    }

    /// <summary>No rule names the channel: no lock, no position.</summary>
    [Benchmark(Baseline = true)]
    public EncodedMessage HistoryOff()
    {
        _offPublished++;
        return Publish(_withoutHistory);
    }

    /// <summary>The channel keeps its last 1,000 messages.</summary>
    [Benchmark]
    public EncodedMessage HistoryOn()
    {
        _onPublished++;
        return Publish(_withHistory);
    }

    private string Key(string method) => Verification.Key(nameof(HistoryBenchmarks), method, N);

    private EncodedMessage Publish(EngineFixture fixture)
    {
        var publish = fixture.Engine.PublishAsync(Channel, _data, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        return publish.IsCompletedSuccessfully ? publish.Result : throw new InvalidOperationException("The publish did not complete synchronously.");
    }
}
