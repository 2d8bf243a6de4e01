namespace Halley;

/// <summary>Settings of the subscribe-only streaming endpoints <c>GET /sse</c> and <c>GET /stream</c>.</summary>
public sealed class StreamingOptions
{
    /// <summary>Most <c>channel=</c> parameters one request may carry; more gets HTTP 400. Default 16.</summary>
    public int MaxChannelsPerRequest { get; set; } = 16;

    /// <summary>
    /// Bytes of padding written at the start of every streaming response, to push it through an intermediary
    /// that holds back the first few kilobytes. Default 0 (off); a client asks for it with <c>?pad=N</c>.
    /// </summary>
    public int Padding { get; set; }

    /// <summary>Largest padding a request may ask for with <c>?pad=N</c>; more gets HTTP 400. Default 64 KiB.</summary>
    public int MaxPadding { get; set; } = 64 * 1024;

    /// <summary>The reconnection delay sent as <c>retry:</c> when the server ends an SSE stream. Default 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
