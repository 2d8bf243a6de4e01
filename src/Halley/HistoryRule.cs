namespace Halley;

/// <summary>How much history one channel keeps: at most <see cref="Size"/> messages, none older than <see cref="Ttl"/>.</summary>
public sealed class HistoryRule
{
    /// <summary>Most messages kept per channel. Default 100.</summary>
    public int Size { get; set; } = 100;

    /// <summary>Longest a message is kept. Default 10 minutes.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(10);
}
