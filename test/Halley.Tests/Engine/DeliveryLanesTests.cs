using Halley.Engine;

namespace Halley.Tests.Engine;

/// <summary>
/// The lanes connections flush on: every piece of work runs once, no more lanes than allowed run at once, a broken
/// piece of work does not stop the others, and publishers wait while the lanes are behind and go on when they catch up.
/// </summary>
public class DeliveryLanesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EveryWork_RunsOnce_OnAtMostTheAllowedNumberOfLanes()
    {
        var lanes = new DeliveryLanes(2, TimeSpan.FromSeconds(10));
        var probe = new ConcurrencyProbe();
        var works = Enumerable.Range(0, 5_000).Select(_ => new CountingWork(probe)).ToArray();

        // From several threads at once, as fan-outs of several publishers would.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = t; i < works.Length; i += 4)
            {
                lanes.Schedule(works[i]);
            }
        })));

        await probe.WaitForAsync(works.Length).WaitAsync(Timeout);
        Assert.All(works, work => Assert.Equal(1, work.Runs));
        Assert.InRange(probe.MaxConcurrent, 1, 2);
        Assert.Equal(0, lanes.Pending);
    }

    [Fact]
    public async Task WorkThatThrows_DoesNotStopTheLane()
    {
        var lanes = new DeliveryLanes(1, TimeSpan.FromSeconds(10));
        var probe = new ConcurrencyProbe();

        lanes.Schedule(new ThrowingWork());
        var after = new CountingWork(probe);
        lanes.Schedule(after);

        await probe.WaitForAsync(1).WaitAsync(Timeout);
        Assert.Equal(1, after.Runs);
    }

    [Fact]
    public async Task Publishers_WaitWhileTheLanesAreBehind_AndGoOnWhenTheyCatchUp()
    {
        var maxLag = TimeSpan.FromMilliseconds(5);
        var lanes = new DeliveryLanes(1, maxLag);
        Assert.True(lanes.WhenCaughtUpAsync(CancellationToken.None).AsTask().IsCompletedSuccessfully);

        var observer = await FallBehindAsync(lanes, maxLag, new NoWork());

        // The observer runs in the turn after the one that found the lanes behind.
        var seen = await observer.Seen.Task.WaitAsync(Timeout);
        Assert.True(seen.WasBehind);
        Assert.False(seen.CompletedAtOnce);
        // Its turn empties the queue: caught up, the waiting publisher goes on.
        await seen.Waiting.WaitAsync(Timeout);
        Assert.False(lanes.IsBehind);
        Assert.True(lanes.WhenCaughtUpAsync(CancellationToken.None).AsTask().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task AWaitingPublisher_CanBeCancelled()
    {
        var maxLag = TimeSpan.FromMilliseconds(5);
        var lanes = new DeliveryLanes(1, maxLag);
        var holdLastTurn = new TaskCompletionSource();
        var observer = await FallBehindAsync(lanes, maxLag, new BlockingWork(holdLastTurn.Task));
        var seen = await observer.Seen.Task.WaitAsync(Timeout);
        Assert.True(seen.WasBehind);

        using var cancel = new CancellationTokenSource();
        var waiting = lanes.WhenCaughtUpAsync(cancel.Token).AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));
        holdLastTurn.SetResult();
        await seen.Waiting.WaitAsync(Timeout);
    }

    /// <summary>
    /// Makes one lane fall behind: its first turn is held while a full turn of work (and then the observer and
    /// <paramref name="last"/>) waits in the queue for longer than the allowed lag. The second turn takes that work
    /// late with more still queued, so it finds the lanes behind; the observer runs first in the third turn.
    /// </summary>
    private static async Task<ObservingWork> FallBehindAsync(DeliveryLanes lanes, TimeSpan maxLag, IDeliveryWork last)
    {
        var release = new TaskCompletionSource();
        var blocking = new BlockingWork(release.Task);
        lanes.Schedule(blocking);
        await blocking.Started.Task.WaitAsync(Timeout);
        var queuedAt = Environment.TickCount64;
        for (var i = 0; i < DeliveryLanes.TurnSize; i++)
        {
            lanes.Schedule(new NoWork());
        }
        var observer = new ObservingWork(lanes);
        lanes.Schedule(observer);
        lanes.Schedule(last);
        // The clock, not a sleep: the condition is that the queued work waited longer than the limit.
        while (Environment.TickCount64 - queuedAt <= 3 * maxLag.TotalMilliseconds)
        {
            Thread.Yield();
        }
        release.SetResult();
        return observer;
    }

    /// <summary>Counts completed work and the most pieces running at once.</summary>
    private sealed class ConcurrencyProbe
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private int _maxConcurrent;
        private int _done;
        private int _target = int.MaxValue;

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public void Enter()
        {
            var running = Interlocked.Increment(ref _running);
            int max;
            while (running > (max = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, running, max) != max)
            {
            }
        }

        public void Exit()
        {
            Interlocked.Decrement(ref _running);
            if (Interlocked.Increment(ref _done) >= Volatile.Read(ref _target))
            {
                _reached.TrySetResult();
            }
        }

        public Task WaitForAsync(int count)
        {
            Volatile.Write(ref _target, count);
            if (Volatile.Read(ref _done) >= count)
            {
                _reached.TrySetResult();
            }
            return _reached.Task;
        }
    }

    private sealed class CountingWork(ConcurrencyProbe probe) : IDeliveryWork
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void RunDelivery()
        {
            probe.Enter();
            Interlocked.Increment(ref _runs);
            // Some work, so that lanes overlap when they can.
            Thread.SpinWait(200);
            probe.Exit();
        }
    }

    private sealed class ThrowingWork : IDeliveryWork
    {
        public void RunDelivery() => throw new InvalidOperationException("a broken flush");
    }

    private sealed class NoWork : IDeliveryWork
    {
        public void RunDelivery()
        {
        }
    }

    /// <summary>Holds its lane until released (a test's stand-in for a slow turn).</summary>
    private sealed class BlockingWork(Task release) : IDeliveryWork
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void RunDelivery()
        {
            Started.TrySetResult();
            release.Wait(Timeout);
        }
    }

    /// <summary>Records, when it runs, whether publishers were waiting, and starts waiting as a publisher would.</summary>
    private sealed class ObservingWork(DeliveryLanes lanes) : IDeliveryWork
    {
        public TaskCompletionSource<(bool WasBehind, bool CompletedAtOnce, Task Waiting)> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void RunDelivery()
        {
            var wasBehind = lanes.IsBehind;
            var waiting = lanes.WhenCaughtUpAsync(CancellationToken.None).AsTask();
            // Read here: the lane goes on, and may release the wait, as soon as this returns.
            Seen.TrySetResult((wasBehind, waiting.IsCompleted, waiting));
        }
    }
}
