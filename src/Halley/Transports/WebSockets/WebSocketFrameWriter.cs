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
        if (items.Count == 0)
        {
            return JoinEvents(events, out pooled);
        }
        pooled = new PooledBufferWriter(InitialCapacity);
        using var json = new Utf8JsonWriter(pooled);
        Write(json, items, events);
        return pooled.WrittenMemory;
    }

    /// <summary>
    /// A batch of events alone, the frame a busy fan-out sends: the events' JSON, already encoded once for every
    /// subscriber, joined by commas inside one array, with no JSON writer.
    /// </summary>
    private static ReadOnlyMemory<byte> JoinEvents(List<EncodedMessage> events, out PooledBufferWriter pooled)
    {
        var length = 1 + events.Count;
        foreach (var message in events)
        {
            length += message.Json.Length;
        }
        pooled = new PooledBufferWriter(length);
        var frame = pooled.GetSpan(length);
        frame[0] = (byte)'[';
        var written = 1;
        foreach (var message in events)
        {
            if (written > 1)
            {
                frame[written++] = (byte)',';
            }
            message.Json.Span.CopyTo(frame[written..]);
            written += message.Json.Length;
        }
        frame[written++] = (byte)']';
        pooled.Advance(written);
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
