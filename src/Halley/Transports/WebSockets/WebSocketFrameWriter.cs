using System.Text.Json;
using Halley.Engine;

namespace Halley.Transports.WebSockets;

/// <summary>Writes the Bayeux array one outgoing text frame carries: the queued replies and events, in order.</summary>
internal static class WebSocketFrameWriter
{
    private const int InitialCapacity = 4096;

    /// <summary>Builds the frame in pooled memory; the caller disposes <paramref name="pooled"/> once the frame is sent.</summary>
    public static ReadOnlyMemory<byte> Build(List<OutgoingMessage> items, List<EncodedMessage> events, out PooledBufferWriter pooled)
    {
        pooled = new PooledBufferWriter(InitialCapacity);
        using var json = new Utf8JsonWriter(pooled);
        Write(json, items, events);
        return pooled.WrittenMemory;
    }

    private static void Write(Utf8JsonWriter json, List<OutgoingMessage> items, List<EncodedMessage> events)
    {
        json.WriteStartArray();
        foreach (var item in items)
        {
            if (item.Reply is not null)
            {
                item.Reply.WriteTo(json);
            }
            else
            {
                json.WriteRawValue(item.Event!.Json.Span, skipInputValidation: true);
            }
        }
        foreach (var message in events)
        {
            json.WriteRawValue(message.Json.Span, skipInputValidation: true);
        }
        json.WriteEndArray();
        json.Flush();
    }
}
