using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>A long-lived push connection that the shared sweep keeps alive (heartbeats) and retires (lifetime).</summary>
internal interface ILiveConnection
{
    /// <summary>
    /// Called by the shared sweep with the current timestamp. Must not block: it only notes what is due
    /// (see <see cref="LiveClock.Check"/>) and wakes the connection's own writer.
    /// </summary>
    void OnSweep(long now);
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
    private readonly ConcurrentDictionary<ILiveConnection, byte> _connections = new(ReferenceEqualityComparer.Instance);
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

    /// <summary>A clock for a connection opened now: its lifetime is randomised by ±10% so clients do not reconnect together.</summary>
    public LiveClock StartClock()
    {
        var now = Now;
        var lifetime = (long)(_lifetimeTicks * (0.9 + (0.2 * Random.Shared.NextDouble())));
        return new LiveClock(now, now + Math.Max(1, lifetime), HeartbeatTicks);
    }

    public void Add(ILiveConnection connection) => _connections.TryAdd(connection, 0);

    public void Remove(ILiveConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>One pass over every connection; run by <see cref="SessionSweeper"/>.</summary>
    public void Sweep()
    {
        var now = Now;
        foreach (var (connection, _) in _connections)
        {
            connection.OnSweep(now);
        }
    }

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
