using System.Collections.Concurrent;

namespace Halley.Client.Tests.Fakes;

/// <summary>
/// A clock whose timers fire only when a test says so, and which records every pause asked of it: a client that
/// pauses when it should not never comes back, and the test sees the pause it asked for.
/// </summary>
internal sealed class ManualTimers : TimeProvider
{
    private readonly ConcurrentQueue<Timer> _timers = new();

    /// <summary>Raised with the due time of every timer created.</summary>
    public event Action<TimeSpan>? TimerCreated;

    /// <summary>The due times of the timers created so far, in order.</summary>
    public IReadOnlyList<TimeSpan> Requested => [.. _timers.Select(t => t.DueTime)];

    /// <summary>Completes with the due time of the next timer created from now on.</summary>
    public Task<TimeSpan> NextTimer()
    {
        var created = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        TimerCreated += due => created.TrySetResult(due);
        return created.Task;
    }

    /// <summary>Fires every timer created so far that has not fired yet.</summary>
    public void FireAll()
    {
        foreach (var timer in _timers)
        {
            timer.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(callback, state, dueTime);
        _timers.Enqueue(timer);
        TimerCreated?.Invoke(dueTime);
        return timer;
    }

    private sealed class Timer(TimerCallback callback, object? state, TimeSpan dueTime) : ITimer
    {
        private int _fired;

        public TimeSpan DueTime { get; } = dueTime;

        public void Fire()
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                callback(state);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
