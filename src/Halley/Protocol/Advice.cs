namespace Halley.Protocol;

/// <summary>The Bayeux <c>advice</c> object of a reply. Times are in milliseconds on the wire.</summary>
internal sealed class Advice
{
    public ReconnectAdvice Reconnect { get; init; }
    public long? Interval { get; init; }
    public long? Timeout { get; init; }
    public long? MaxInterval { get; init; }

    public static readonly Advice Handshake = new() { Reconnect = ReconnectAdvice.Handshake, Interval = 0 };
    public static readonly Advice Stop = new() { Reconnect = ReconnectAdvice.Stop };

    /// <summary>
    /// Retry after 1 to 5 s, drawn anew for each reply: the engine's store is unavailable, and clients told the same
    /// interval would all come back at once when it returns.
    /// </summary>
    public static Advice BackOff() => new() { Reconnect = ReconnectAdvice.Retry, Interval = Random.Shared.Next(1000, 5001) };

    public static string ToWire(ReconnectAdvice advice) => advice switch
    {
        ReconnectAdvice.Retry => "retry",
        ReconnectAdvice.Handshake => "handshake",
        ReconnectAdvice.Stop => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(advice)),
    };
}
