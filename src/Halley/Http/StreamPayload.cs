using System.Buffers;
using System.Text.Json;
using Halley.Engine;

namespace Halley.Http;

/// <summary>
/// The payload of a streamed event, <c>{"channel":…,"data":…}</c> plus <c>"position"</c> when the channel keeps
/// history, derived from the engine's encoded message once
/// per message (not per subscriber) and shared by every stream that sends it.
/// </summary>
internal static class StreamPayload
{
    /// <summary>The payload as one line of UTF-8 JSON: line breaks between tokens (there can be none inside strings) become spaces.</summary>
    public static ReadOnlySpan<byte> Of(EncodedMessage message) => message.GetOrAddStreamPayload(static m => Encode(m));

    internal static byte[] Encode(EncodedMessage message)
    {
        var json = message.Json.Span;
        var reader = new Utf8JsonReader(json);
        ReadOnlySpan<byte> data = "null"u8;
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isData = reader.ValueTextEquals("data"u8);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (isData)
                {
                    data = json[start..(int)reader.BytesConsumed];
                    break;
                }
            }
        }
        var buffer = new ArrayBufferWriter<byte>(message.Channel.Length + data.Length + 24);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("channel"u8, message.Channel);
            writer.WritePropertyName("data"u8);
            if (data.IndexOfAny((byte)'\r', (byte)'\n') < 0)
            {
                writer.WriteRawValue(data, skipInputValidation: true);
            }
            else
            {
                var copy = data.ToArray();
                copy.AsSpan().Replace((byte)'\r', (byte)' ');
                copy.AsSpan().Replace((byte)'\n', (byte)' ');
                writer.WriteRawValue(copy, skipInputValidation: true);
            }
            if (message.Position is { } position)
            {
                writer.WriteString("position"u8, position.ToString());
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
