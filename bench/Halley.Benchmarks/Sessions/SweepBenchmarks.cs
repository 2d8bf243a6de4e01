using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Sessions;

namespace Halley.Benchmarks.Sessions;

/// <summary>
/// One pass of the shared sweep (every <c>Halley:SweepPeriod</c>, 250 ms by default) over N idle sessions, each with
/// a connect held until its deadline 20 s away, as a WebSocket client's session sits between messages: what an idle
/// node spends just to keep time. Nothing is due, so every pass must find nothing to do, quickly.
/// </summary>
[MemoryDiagnoser]
public class SweepBenchmarks
{
    private EngineFixture _fixture = null!;
    private readonly List<(BayeuxSession Session, HeldConnect Held)> _held = [];

    [Params(10_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new EngineFixture(new HalleyOptions());
        var deadline = _fixture.Registry.Now + _fixture.Registry.ToTicks(TimeSpan.FromHours(1));
        for (var i = 0; i < N; i++)
        {
            var session = _fixture.Registry.Create(browserId: null, owner: null);
            _held.Add((session, session.BeginConnect(deadline, replyNow: false)
                ?? throw new InvalidOperationException("A fresh session refused its connect.")));
        }
    }

    /// <summary>One sweep over every session; none is due.</summary>
    [Benchmark]
    public void SweepIdleSessions() => _fixture.Registry.Sweep();

    [GlobalCleanup]
    public void Cleanup()
    {
        var key = Verification.Key(nameof(SweepBenchmarks), nameof(SweepIdleSessions), N);
        // The measured sweeps must have ended nothing: a held connect timed out, or a session expired, would mean the
        // benchmark measured work it does not claim to.
        var ended = _held.Count(h => h.Session.IsTerminated || h.Held.IsCompleted);
        Verification.Require(key, ended == 0, $"{ended} of {N} idle sessions or their held connects were ended by the sweeps");
        // And the sweep must still find what is due among them: a sweep that skipped everything would be fast too.
        var due = _fixture.Registry.Create(browserId: null, owner: null);
        var late = due.BeginConnect(_fixture.Registry.Now - 1, replyNow: false)
            ?? throw new InvalidOperationException("A fresh session refused its connect.");
        _fixture.Registry.Sweep();
        Verification.Require(key, late.IsCompleted, $"a sweep over {N} idle sessions missed the one whose held connect was due");
        Verification.Passed(key, $"sweeps over {N} idle sessions ended none, and found the one due");
        _fixture.Dispose();
    }
}
