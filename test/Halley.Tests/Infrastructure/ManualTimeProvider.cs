namespace Halley.Tests.Infrastructure;

/// <summary>A clock that moves only when a test advances it.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _timestamp = 1_000_000;
    private DateTimeOffset _utcNow = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    public override DateTimeOffset GetUtcNow() => _utcNow;

    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _timestamp, by.Ticks);
        _utcNow += by;
    }

    /// <summary>Moves the monotonic clock by raw ticks (one tick = 100 ns here).</summary>
    public void AdvanceTicks(long ticks)
    {
        Interlocked.Add(ref _timestamp, ticks);
        _utcNow += TimeSpan.FromTicks(ticks);
    }
}
