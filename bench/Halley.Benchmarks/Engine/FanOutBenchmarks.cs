using System.Text;
using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Benchmarks.Engine;

/// <summary>
/// One publish of a 100-byte message fanned out to N real <see cref="BayeuxSession"/> subscribers created through
/// <see cref="SessionRegistry"/>: encode once, look up the channel's keys, lock each session and enqueue a
/// reference. Allocated bytes per operation must not depend on N.
/// </summary>
/// <remarks>
/// Keeping the queues from filling, soundly: each session's queue is drained in <see cref="IterationCleanup"/>,
/// outside the measurement, and the number of publishes per iteration is fixed (<see cref="PublishesPerIteration"/>,
/// through [InvocationCount], which BenchmarkDotNet requires with an iteration cleanup anyway). In the global setup
/// every queue is warmed to twice that many entries and drained, and <see cref="Queue{T}"/> never shrinks, so no
/// measured Deliver ever grows a queue's array: what is measured is the steady state of a server whose
/// transports keep up, not queue growth (a per-subscriber allocation that would otherwise be amortized into the
/// numbers). MaxQueue is far above what an iteration enqueues, so no session is ever dropped. Draining inside the
/// benchmark would be sound too, but would add N drains to the time of what is meant to be the publisher's cost.
/// Each session has a push target attached, as a WebSocket or SSE connection would, so Deliver takes its real
/// wake-up path (the target's wake-up is a no-op here). The drain also verifies the work (see <see cref="DrainAll"/>
/// and <see cref="Verification"/>): a regression where a publish reaches nobody allocates less, and must fail.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(PublishesPerIteration)]
public class FanOutBenchmarks
{
    public const int PublishesPerIteration = 64;

    // Every subscriber of this channel holds exactly its name: the engine's single-key fast path.
    private const string Quotes = "/market/fx/quotes/eurusd";

    // Same N exact subscribers, plus one session (a monitor, an audit logger) subscribed to /chat/**: two keys
    // match, so the engine takes its de-duplicating path.
    private const string Lobby = "/chat/rooms/main/lobby";
    private const string LobbyMonitor = "/chat/**";

    private readonly List<EncodedMessage> _drained = new(PublishesPerIteration * 2);
    private ReadOnlyMemory<byte> _data;
    private ReadOnlyMemory<byte> _id;
    private EngineFixture _fixture = null!;
    private List<BayeuxSession> _quoteSessions = null!;
    private List<BayeuxSession> _lobbySessions = null!;
    private List<BayeuxSession> _lobbyMonitor = null!;
    private List<BayeuxSession> _sessions = null!;

    // Publishes since the last drain (one increment per operation: no allocation, a fraction of a nanosecond
    // against microseconds of fan-out), and publishes whose delivery was verified since the global setup.
    private int _quotesPublished;
    private int _lobbyPublished;
    private long _quotesVerified;
    private long _lobbyVerified;

    [Params(1_000, 10_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = Payload(100);
        _id = Encoding.UTF8.GetBytes("\"m1\"");
        _fixture = new EngineFixture(new HalleyOptions { MaxQueue = 1_000_000 });
        _quoteSessions = new List<BayeuxSession>(N);
        _lobbySessions = new List<BayeuxSession>(N);
        for (var i = 0; i < N; i++)
        {
            _quoteSessions.Add(_fixture.Subscribe(Quotes));
            _lobbySessions.Add(_fixture.Subscribe(Lobby));
        }
        _lobbyMonitor = [_fixture.Subscribe(LobbyMonitor)];
        _sessions = [.. _quoteSessions, .. _lobbySessions, .. _lobbyMonitor];
        foreach (var session in _sessions)
        {
            if (!session.AttachPushTarget(NullPushTarget.Instance))
            {
                throw new InvalidOperationException("A session refused its push target.");
            }
        }
        // Grow every queue past what one iteration enqueues, then empty it: see the remarks. The warm-up's
        // deliveries are verified too, but only the measured iterations' publishes count towards the pass.
        for (var i = 0; i < 2 * PublishesPerIteration; i++)
        {
            PublishQuote();
            PublishToLobby();
        }
        DrainAll();
        _quotesVerified = 0;
        _lobbyVerified = 0;
    }

    /// <summary>
    /// Empties every queue, outside the measurement, and checks what each session received: every Quotes
    /// subscriber exactly the Quotes publishes, every Lobby subscriber and the /chat/** monitor exactly the Lobby
    /// publishes (once each, though two keys match), all on the right channel. A publish that reaches nobody, or
    /// only some, fails the benchmark.
    /// </summary>
    [IterationCleanup]
    public void DrainAll()
    {
        var quotes = _quotesPublished;
        var lobby = _lobbyPublished;
        Receive(nameof(PublishQuote), _quoteSessions, Quotes, quotes);
        Receive(nameof(PublishToLobby), _lobbySessions, Lobby, lobby);
        Receive(nameof(PublishToLobby), _lobbyMonitor, Lobby, lobby);
        if (_fixture.Registry.Count != _sessions.Count)
        {
            throw Verification.Failed(Key(quotes > 0 ? nameof(PublishQuote) : nameof(PublishToLobby)),
                "A session was dropped: the queues are not being kept from filling.");
        }
        _quotesPublished = 0;
        _lobbyPublished = 0;
        _quotesVerified += quotes;
        _lobbyVerified += lobby;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            DrainAll();
            // Each case runs on its own instance: record a pass for the method that ran (and published).
            if (_quotesVerified > 0)
            {
                Verification.Passed(Key(nameof(PublishQuote)), $"{_quotesVerified} publishes, each received once by each of {N} sessions");
            }
            if (_lobbyVerified > 0)
            {
                Verification.Passed(Key(nameof(PublishToLobby)), $"{_lobbyVerified} publishes, each received once by each of {N + 1} sessions");
            }
        }
        finally
        {
            _fixture.Dispose();
        }
    }

    /// <summary>N subscribers, all on the channel's own name.</summary>
    [Benchmark]
    public EncodedMessage PublishQuote()
    {
        _quotesPublished++;
        return Publish(Quotes);
    }

    /// <summary>N subscribers on the channel's name plus one on a matching wildcard.</summary>
    [Benchmark]
    public EncodedMessage PublishToLobby()
    {
        _lobbyPublished++;
        return Publish(Lobby);
    }

    private string Key(string method) => Verification.Key(nameof(FanOutBenchmarks), method, N);

    /// <summary>Drains <paramref name="sessions"/>, each of which must have received exactly <paramref name="published"/> messages on <paramref name="channel"/>.</summary>
    private void Receive(string method, List<BayeuxSession> sessions, string channel, int published)
    {
        foreach (var session in sessions)
        {
            session.Drain(NullPushTarget.Instance, _drained);
            var received = _drained.Count;
            var onChannel = 0;
            foreach (var message in _drained)
            {
                onChannel += message.Channel == channel ? 1 : 0;
            }
            _drained.Clear();
            if (received != published || onChannel != published)
            {
                throw Verification.Failed(Key(method),
                    $"a session subscribed to {channel} received {received} messages ({onChannel} on {channel}) of {published} published");
            }
        }
    }

    private EncodedMessage Publish(string channel)
    {
        // The in-memory broker delivers synchronously, on the publisher's thread: the whole fan-out happens here.
        var publish = _fixture.Engine.PublishAsync(channel, _data, _id, CancellationToken.None);
        return publish.IsCompletedSuccessfully ? publish.Result : throw new InvalidOperationException("The publish did not complete synchronously.");
    }

    /// <summary>A JSON object of exactly <paramref name="size"/> UTF-8 bytes, shaped like a market-data tick.</summary>
    internal static byte[] Payload(int size)
    {
        const string head = """{"symbol":"EURUSD","bid":1.08412,"ask":1.08415,"ts":1735689600000,"pad":""";
        const string tail = "\"}";
        var json = head + new string('x', size - head.Length - tail.Length) + tail;
        var bytes = Encoding.UTF8.GetBytes(json);
        return bytes.Length == size ? bytes : throw new InvalidOperationException("Payload size mismatch.");
    }
}
