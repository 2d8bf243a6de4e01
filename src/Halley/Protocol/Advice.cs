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

    public static string ToWire(ReconnectAdvice advice) => advice switch
    {
        ReconnectAdvice.Retry => "retry",
        ReconnectAdvice.Handshake => "handshake",
        ReconnectAdvice.Stop => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(advice)),
    };
}
