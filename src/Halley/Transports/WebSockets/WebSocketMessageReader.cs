using System.Buffers;
using System.Net.WebSockets;

namespace Halley.Transports.WebSockets;

/// <summary>Reads one whole incoming message, in pooled chunks, up to a size limit.</summary>
internal static class WebSocketMessageReader
{
    private const int ChunkSize = 4096;

    /// <summary>Reads one whole message; the status says why it stopped when it is not a complete text message.</summary>
    public static async Task<(WebSocketCloseStatus Status, byte[]? Frame)> ReceiveAsync(WebSocket socket, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (WebSocketCloseStatus.NormalClosure, null);
                }
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    return (WebSocketCloseStatus.InvalidMessageType, null);
                }
                length += result.Count;
                if (length > limit)
                {
                    return (WebSocketCloseStatus.MessageTooBig, null);
                }
                if (result.EndOfMessage)
                {
                    // Messages keep slices of the frame while they are processed, so it gets its own array.
                    return (WebSocketCloseStatus.Empty, buffer.AsSpan(0, length).ToArray());
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
