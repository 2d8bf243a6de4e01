namespace Halley.Transports.WebSockets;

/// <summary>
/// Writes whole frames straight to a WebSocket's transport, beside the framework's <see cref="System.Net.WebSockets.WebSocket"/>
/// (which keeps reading and closing): what only the connection-level accept path can offer, since it owns the pipe.
/// </summary>
internal interface IWebSocketFrameSink
{
    /// <summary>Writes a ping frame unless a frame is being written right now. Never blocks the caller.</summary>
    Task TrySendPingAsync(CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="payload"/> as one final, unmasked text frame and flushes it.</summary>
    ValueTask SendTextAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
