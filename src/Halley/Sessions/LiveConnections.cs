using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>A long-lived push connection that the shared sweep keeps alive (heartbeats) and retires (lifetime).</summary>
internal interface ILiveConnection
{
    /// <summary>
    /// Called by the shared sweep with the current timestamp. Must not block: it only notes what is due
    /// (see <see cref="LiveClock.Check"/>) and wakes the connection's own writer. Returns when the connection next
    /// needs a look (a timestamp; not later than its next deadline, see <see cref="LiveClock.NextDue"/>).
    /// </summary>
    long OnSweep(long now);
}

/// <summary>What the sweep found due for one connection.</summary>
internal enum LiveDue
{
    Nothing,
    Heartbeat,
    Close,
}

/// <summary>
/// Every open long-lived connection of this node (SSE, HTTP streaming, Faye <c>eventsource</c>, WebSocket). The
/// one shared sweep (<see cref="SessionSweeper"/>) visits them each <see cref="HalleyOptions.SweepPeriod"/>, so
/// heartbeats and lifetimes cost no timer per connection.
/// </summary>
internal sealed class LiveConnections
{
    private readonly ConcurrentDictionary<ILiveConnection, DueSlot> _connections = new(ReferenceEqualityComparer.Instance);
    // When each connection next needs a look: the sweep reads it in order and visits only those due.
    private readonly DueTable<ILiveConnection> _due = new();
    private readonly List<(ILiveConnection Item, DueSlot Slot, long Seen)> _dueNow = [];
    private readonly Lock _sweepTurn = new();
    private readonly TimeProvider _time;
    private readonly long _lifetimeTicks;

    public LiveConnections(IOptions<HalleyOptions> options, TimeProvider time)
    {
        _time = time;
        HeartbeatTicks = ToTicks(options.Value.HeartbeatInterval);
        _lifetimeTicks = ToTicks(options.Value.MaxConnectionLifetime);
    }

    public long Now => _time.GetTimestamp();

    /// <summary>The heartbeat interval as <see cref="TimeProvider"/> ticks.</summary>
    public long HeartbeatTicks { get; }

    public int Count => _connections.Count;

    /// <summary>
    /// A clock for a connection opened now: its lifetime is randomised by ±10% so clients do not reconnect together,
    /// and ends by <paramref name="notAfter"/> (the expiry of the token the connection was opened with) if given.
    /// </summary>
    public LiveClock StartClock(DateTimeOffset? notAfter = null)
    {
        var now = Now;
        var lifetime = (long)(_lifetimeTicks * (0.9 + (0.2 * Random.Shared.NextDouble())));
        // A stream opened with a connection token closes when the token expires, if that comes first.
        if (notAfter is { } end)
        {
            lifetime = Math.Min(lifetime, ToTicks(end - _time.GetUtcNow()));
        }
        return new LiveClock(now, now + Math.Max(1, lifetime), HeartbeatTicks);
    }

    /// <summary>Registers <paramref name="connection"/>; the next sweep looks at it and learns its deadlines.</summary>
    public void Add(ILiveConnection connection)
    {
        lock (_sweepTurn)
        {
            if (!_connections.ContainsKey(connection))
            {
                _connections[connection] = _due.Add(connection, Now);
            }
        }
    }

    public void Remove(ILiveConnection connection)
    {
        if (_connections.TryRemove(connection, out var slot))
        {
            _due.Remove(slot);
        }
    }

    /// <summary><paramref name="connection"/> set a deadline outside the sweep (a close that awaits its answer): look at it then.</summary>
    public void DueBy(ILiveConnection connection, long deadline)
    {
        if (_connections.TryGetValue(connection, out var slot))
        {
            slot.Lower(deadline);
        }
    }

    /// <summary>One pass over the connections that may be due; run by <see cref="SessionSweeper"/>.</summary>
    public void Sweep()
    {
        lock (_sweepTurn)
        {
            var now = Now;
            _due.CollectDue(now, _dueNow);
            try
            {
                foreach (var (connection, slot, seen) in _dueNow)
                {
                    slot.TryReplace(seen, connection.OnSweep(now));
                }
            }
            finally
            {
                _dueNow.Clear();
            }
        }
    }

    /// <summary>Connections holding a slot of the sweep's table (tests: it must not outgrow the live connections).</summary>
    internal int SweepSlots => _due.Count;

    /// <summary><paramref name="duration"/> as <see cref="TimeProvider"/> ticks.</summary>
    public long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);
}

/// <summary>
/// A connection's heartbeat and lifetime bookkeeping: when it last sent something and when it must close.
/// Thread-safe: the writer records sends, the sweep checks.
/// </summary>
internal sealed class LiveClock(long openedAt, long closeAt, long heartbeatTicks)
{
    private long _lastSent = openedAt;
    private int _closeDue;

    /// <summary>When the connection must close, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long CloseAt { get; } = closeAt;

    /// <summary>Records that bytes went out at <paramref name="now"/>: the next heartbeat is due an interval later.</summary>
    public void Sent(long now) => Volatile.Write(ref _lastSent, now);

    /// <summary>When something may next be due: the heartbeat after the last send, or the close while it was not reported yet.</summary>
    public long NextDue()
    {
        var heartbeat = Volatile.Read(ref _lastSent) + heartbeatTicks;
        return Volatile.Read(ref _closeDue) == 0 ? Math.Min(heartbeat, CloseAt) : heartbeat;
    }

    /// <summary>What is due at <paramref name="now"/>. A close is reported once.</summary>
    public LiveDue Check(long now)
    {
        if (now >= CloseAt)
        {
            return Interlocked.Exchange(ref _closeDue, 1) == 0 ? LiveDue.Close : LiveDue.Nothing;
        }
        if (now - Volatile.Read(ref _lastSent) >= heartbeatTicks)
        {
            // Count the heartbeat as sent now, so a writer that is slow to send it is not asked again each sweep.
            Volatile.Write(ref _lastSent, now);
            return LiveDue.Heartbeat;
        }
        return LiveDue.Nothing;
    }
}
