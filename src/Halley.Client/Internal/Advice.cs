namespace Halley.Client.Internal;

/// <summary>The server's <c>advice</c>: what to do after this reply, and the connect timing it wants.</summary>
/// <param name="Reconnect"><c>retry</c>, <c>handshake</c> or <c>none</c>; null when not given.</param>
/// <param name="Interval">Milliseconds to wait before the next connect.</param>
/// <param name="Timeout">Milliseconds the server holds a connect.</param>
internal sealed record Advice(string? Reconnect, int? Interval, int? Timeout)
{
    public const string Retry = "retry";
    public const string Handshake = "handshake";
    public const string None = "none";

    public bool SaysHandshake => string.Equals(Reconnect, Handshake, StringComparison.Ordinal);

    public bool SaysNone => string.Equals(Reconnect, None, StringComparison.Ordinal);

    public bool SaysRetry => string.Equals(Reconnect, Retry, StringComparison.Ordinal);

    /// <summary>Fields missing from <paramref name="update"/> keep their current values, as Bayeux advice is sticky.</summary>
    public Advice Merge(Advice? update) => update is null
        ? this
        : new Advice(update.Reconnect ?? Reconnect, update.Interval ?? Interval, update.Timeout ?? Timeout);
}
