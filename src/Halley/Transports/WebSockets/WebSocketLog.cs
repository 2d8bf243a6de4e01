using Microsoft.Extensions.Logging;

namespace Halley.Transports.WebSockets;

/// <summary>What a WebSocket connection logs, under <see cref="WebSocketTransport"/>'s category.</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(20, LogLevel.Debug, "WebSocket closed: {Reason}", EventName = "WebSocketClosed")]
    public static partial void Closed(ILogger logger, string reason);

    [LoggerMessage(21, LogLevel.Debug, "WebSocket failed", EventName = "WebSocketFailed")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(22, LogLevel.Error, "WebSocket send loop failed; the socket is aborted", EventName = "WebSocketFlushFailed")]
    public static partial void FlushFailed(ILogger logger, Exception exception);
}
