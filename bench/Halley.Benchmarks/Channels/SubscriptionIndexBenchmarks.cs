using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Channels;

namespace Halley.Benchmarks.Channels;

/// <summary>
/// Many subscribers on one channel (issue 10): filling a channel with N subscribers, churn on a full channel (the
/// oldest subscriber leaves, another joins), and one iteration of the subscribers as a fan-out reads them. The cost
/// per subscriber must not grow with N: a fill of 100,000 should take about 10 times a fill of 10,000, not 100 times,
/// and a churn step about the same time at both sizes.
/// </summary>
/// <remarks>
/// Uses only <c>Add</c>, <c>Remove</c> and <c>foreach</c> over <c>Get</c>, so the same file also builds against the
/// index before issue 10 (an immutable array per key) for a before/after comparison.
/// </remarks>
[MemoryDiagnoser]
public class SubscriptionIndexBenchmarks
{
    private const string Channel = "/bench/rooms/lobby";

    // N + 1 subscribers: a full channel holds all but one (the one churn adds next).
    private object[] _pool = [];

    // Churn and Iterate: a channel filled with _pool[0..N) in the setup.
    private SubscriptionIndex<object> _full = new();
    private int _leavesNext;
    private int _joinsNext;

    // What the invocations did, counted without allocating and checked in the global cleanup, outside the measurement.
    private SubscriptionIndex<object>? _lastFill;
    private int _lastFillAdded;
    private long _fills;
    private long _churns;
    private long _churnFailures;
    private int _lastIterated;
    private long _iterations;

    /// <summary>Subscribers on the channel.</summary>
    [Params(10_000, 100_000)]
    public int N { get; set; }

    [GlobalSetup(Target = nameof(Fill))]
    public void SetupFill() => _pool = [.. Enumerable.Range(0, N + 1).Select(_ => new object())];

    [GlobalSetup(Targets = [nameof(Churn), nameof(Iterate)])]
    public void SetupFull()
    {
        SetupFill();
        _full = new SubscriptionIndex<object>();
        for (var i = 0; i < N; i++)
        {
            if (!_full.Add(Channel, _pool[i]))
            {
                throw new InvalidOperationException("The setup's fill failed.");
            }
        }
        _leavesNext = 0;
        _joinsNext = N;
    }

    /// <summary>A new index, and N subscribers added to one channel of it: one operation is the whole fill.</summary>
    [Benchmark]
    public int Fill()
    {
        var index = new SubscriptionIndex<object>();
        var added = 0;
        for (var i = 0; i < N; i++)
        {
            if (index.Add(Channel, _pool[i]))
            {
                added++;
            }
        }
        _lastFill = index;
        _lastFillAdded = added;
        _fills++;
        return added;
    }

    /// <summary>On the full channel, the subscriber that joined longest ago leaves and the one left out joins: one remove and one add.</summary>
    [Benchmark]
    public bool Churn()
    {
        var leaving = _leavesNext;
        var ok = _full.Remove(Channel, _pool[leaving]) & _full.Add(Channel, _pool[_joinsNext]);
        _joinsNext = leaving;
        _leavesNext = leaving == N ? 0 : leaving + 1;
        _churns++;
        if (!ok)
        {
            _churnFailures++;
        }
        return ok;
    }

    /// <summary>One iteration of the full channel's subscribers, as a fan-out reads them.</summary>
    [Benchmark]
    public int Iterate()
    {
        var seen = 0;
        foreach (var subscriber in _full.Get(Channel))
        {
            seen++;
        }
        _lastIterated = seen;
        _iterations++;
        return seen;
    }

    /// <summary>
    /// Checks, outside the measurement, that the method that ran did its work: the last fill holds the N subscribers
    /// in order; every churn step's remove and add succeeded and the channel still holds N distinct subscribers,
    /// not the one left out; the last iteration saw N subscribers.
    /// </summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (_fills > 0)
        {
            var key = Verification.Key(nameof(SubscriptionIndexBenchmarks), nameof(Fill), N);
            var held = Held(_lastFill!);
            Verification.Require(key, _lastFillAdded == N && held.SequenceEqual(_pool.Take(N)),
                $"the last fill added {_lastFillAdded} and holds {held.Count} (in order: {held.SequenceEqual(_pool.Take(N))}), not {N}");
            Verification.Passed(key, $"{_fills} fills of {N}, the last holding all {N} in order");
        }
        if (_churns > 0)
        {
            var key = Verification.Key(nameof(SubscriptionIndexBenchmarks), nameof(Churn), N);
            var held = Held(_full);
            var distinct = held.Distinct().Count();
            Verification.Require(key, _churnFailures == 0 && held.Count == N && distinct == N && !held.Contains(_pool[_joinsNext]),
                $"{_churnFailures} of {_churns} churn steps failed; the channel holds {held.Count} ({distinct} distinct), not {N}");
            Verification.Passed(key, $"{_churns} churn steps, each a successful remove and add; {N} distinct subscribers held");
        }
        if (_iterations > 0)
        {
            var key = Verification.Key(nameof(SubscriptionIndexBenchmarks), nameof(Iterate), N);
            Verification.Require(key, _lastIterated == N, $"the last iteration saw {_lastIterated} subscribers, not {N}");
            Verification.Passed(key, $"{_iterations} iterations, the last seeing all {N}");
        }
    }

    private static List<object> Held(SubscriptionIndex<object> index)
    {
        var held = new List<object>();
        foreach (var subscriber in index.Get(Channel))
        {
            held.Add(subscriber);
        }
        return held;
    }
}
