using System.Buffers;

namespace Halley.Engine;

/// <summary>One piece of delivery work a connection asked for: typically "flush what my sessions queued".</summary>
internal interface IDeliveryWork
{
    /// <summary>Runs the work on a lane. Must not block or throw: it starts sends and returns (an async send goes on by itself).</summary>
    void RunDelivery();
}

/// <summary>
/// Where connections run the flushes their sessions' outboxes ask for, instead of on the thread that delivered the
/// message: one queue, drained by at most one lane per core, each lane a thread-pool work item that runs a bounded
/// turn and then goes to the back of the pool's queue. Publishers wait for the lanes when they fall behind.
/// </summary>
/// <remarks>
/// <para>A fan-out to 10,000 sockets then costs its publisher 10,000 enqueues, not 10,000 sends: the sends run on
/// every core, and a socket whose flush is still waiting when the next message arrives sends both in one frame. That
/// is where several messages per frame come from when one backend publishes as fast as it can.</para>
/// <para>Why lanes and not one pool work item per flush: the pool is one FIFO queue, and 10,000 flushes queued ahead
/// of the request that carries the next publish would make it wait for every send of the previous message, so a
/// publisher could never get ahead of its fan-out and no backlog would ever form. A lane runs
/// <see cref="TurnSize"/> flushes and queues itself again, so that request waits for at most one turn per lane.</para>
/// <para>Pacing: a publisher that gets ahead must not get ahead without bound (every socket's queue would fill
/// until the slow-consumer policy ends its session). <see cref="WhenCaughtUpAsync"/> makes publishes wait while the
/// flush the lanes last took had waited more than <see cref="MaxLag"/>, and lets them go once the lanes are back
/// under half of it: a backlog of that much time per socket, sent in a few frames, is the most a publisher can build.
/// A client too slow to read what it is sent is not the lanes' lag (its flush waits on its own socket, not in the
/// queue): its own queue and the slow-consumer policy deal with it, and other publishers do not wait for it.</para>
/// <para>Order: a connection is queued once until its flush runs (its own flag says so), and one connection's
/// flushes never overlap, so the lanes never reorder a connection's messages.</para>
/// </remarks>
internal sealed class DeliveryLanes : IThreadPoolWorkItem
{
    /// <summary>The lanes of this process: delivery work of every host in it shares the cores.</summary>
    public static DeliveryLanes Shared { get; } = new(Environment.ProcessorCount, TimeSpan.FromMilliseconds(100));

    /// <summary>Flushes one lane runs before it lets other work of the pool go first.</summary>
    internal const int TurnSize = 64;

    // A plain queue under a lock, not a ConcurrentQueue: that one allocates a new segment each time its last one
    // fills (up to 1M entries, 24 MB), a steady cost per delivery; this one grows to the largest backlog and stays.
    private readonly Queue<Entry> _queue = new();
    private readonly Lock _queueGate = new();
    private readonly int _maxLanes;
    private readonly long _maxLagMs;
    private readonly Lock _pacingGate = new();
    private int _running;
    // 1 while publishers must wait; its waiters complete together when the lanes catch up.
    private int _behind;
    private TaskCompletionSource? _caughtUp;

    /// <summary>Creates lanes, at most <paramref name="count"/> of them running at once, pacing publishers at <paramref name="maxLag"/>.</summary>
    public DeliveryLanes(int count, TimeSpan maxLag)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLag, TimeSpan.FromMilliseconds(1));
        _maxLanes = count;
        _maxLagMs = (long)maxLag.TotalMilliseconds;
    }

    /// <summary>How long a flush may wait for a lane before publishers wait.</summary>
    public TimeSpan MaxLag => TimeSpan.FromMilliseconds(_maxLagMs);

    /// <summary>Work waiting for a lane.</summary>
    public int Pending
    {
        get { lock (_queueGate) { return _queue.Count; } }
    }

    /// <summary>Whether publishers wait now.</summary>
    public bool IsBehind => Volatile.Read(ref _behind) != 0;

    /// <summary>Queues <paramref name="work"/> (the caller makes sure it is queued once until it runs).</summary>
    public void Schedule(IDeliveryWork work)
    {
        lock (_queueGate)
        {
            _queue.Enqueue(new Entry(work, Environment.TickCount64));
        }
        StartLaneIfNeeded();
    }

    /// <summary>Completes at once unless the lanes are behind; then when they have caught up (or <paramref name="cancellationToken"/> fires).</summary>
    public ValueTask WhenCaughtUpAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _behind) == 0)
        {
            return ValueTask.CompletedTask;
        }
        Task caughtUp;
        lock (_pacingGate)
        {
            if (_behind == 0)
            {
                return ValueTask.CompletedTask;
            }
            _caughtUp ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            caughtUp = _caughtUp.Task;
        }
        return new ValueTask(caughtUp.WaitAsync(cancellationToken));
    }

    /// <summary>One lane's turn.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        // The turn's work is taken in one step, so lanes and producers meet on the lock once per turn, not per flush.
        var turn = ArrayPool<IDeliveryWork>.Shared.Rent(TurnSize);
        int count;
        long lag;
        bool more;
        lock (_queueGate)
        {
            count = Math.Min(TurnSize, _queue.Count);
            lag = 0;
            for (var i = 0; i < count; i++)
            {
                var entry = _queue.Dequeue();
                turn[i] = entry.Work;
                lag = entry.ScheduledAt;
            }
            more = _queue.Count > 0;
        }
        // How long the newest flush of this turn waited: the lag publishers are paced by.
        lag = count == 0 ? 0 : Environment.TickCount64 - lag;
        for (var i = 0; i < count; i++)
        {
            try
            {
                turn[i].RunDelivery();
            }
            catch (Exception)
            {
                // RunDelivery promises not to throw (a flush reports its own failures and cuts its socket); a broken
                // promise must not stop the lane, or every connection queued behind it would wait forever.
            }
        }
        Array.Clear(turn, 0, count);
        ArrayPool<IDeliveryWork>.Shared.Return(turn);
        Pace(more ? lag : 0);
        if (more)
        {
            // To the back of the pool's queue, behind the requests that arrived meanwhile.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return;
        }
        Interlocked.Decrement(ref _running);
        // Work queued after the queue was found empty and before the count went down may have started no lane.
        StartLaneIfNeeded();
    }

    private void StartLaneIfNeeded()
    {
        while (true)
        {
            var running = Volatile.Read(ref _running);
            if (running >= _maxLanes || Pending == 0)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _running, running + 1, running) == running)
            {
                // A lane holds no state of its own (the count does the bookkeeping), so this object is every lane.
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }
        }
    }

    private void Pace(long lagMs)
    {
        if (lagMs > _maxLagMs)
        {
            Volatile.Write(ref _behind, 1);
            return;
        }
        if (lagMs > _maxLagMs / 2 || Volatile.Read(ref _behind) == 0)
        {
            return;
        }
        TaskCompletionSource? caughtUp;
        lock (_pacingGate)
        {
            _behind = 0;
            caughtUp = _caughtUp;
            _caughtUp = null;
        }
        caughtUp?.TrySetResult();
    }

    private readonly record struct Entry(IDeliveryWork Work, long ScheduledAt);
}
