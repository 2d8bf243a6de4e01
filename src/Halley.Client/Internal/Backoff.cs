namespace Halley.Client.Internal;

/// <summary>
/// Capped exponential backoff for recovery: 100 ms, 200 ms, 400 ms, ... up to a maximum, so a client
/// retries quickly after a blip but a fleet of clients does not hammer a server that is down.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromMilliseconds(100);

    private int _attempt;

    public Backoff(TimeSpan max)
        : this(DefaultInitial, max)
    {
    }

    public int Attempt => _attempt;

    /// <summary>The delay before retry number <paramref name="attempt"/> (0-based), capped at the maximum.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (max <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        // Past 2^20 the product overflows long before it matters; the cap applies anyway.
        var factor = attempt >= 20 ? double.MaxValue : Math.Pow(2, attempt);
        var ticks = initial.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Returns the next delay and advances the attempt counter.</summary>
    public TimeSpan Next() => DelayFor(_attempt++);

    public void Reset() => _attempt = 0;
}
