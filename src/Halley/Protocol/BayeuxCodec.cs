using System.Buffers;
using System.Text.Json;

namespace Halley.Protocol;

/// <summary>
/// Reads Bayeux batches with <see cref="Utf8JsonReader"/> and writes replies and events with
/// <see cref="Utf8JsonWriter"/>. <c>data</c> is never materialized: it is sliced out of the request as raw
/// JSON, so a publish is encoded exactly once, whatever its size and however many subscribers it has.
/// </summary>
internal static class BayeuxCodec
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Parses a JSON array of messages, or a single message object. <paramref name="body"/> must stay alive as
    /// long as the messages: their <c>id</c> and <c>data</c> point into it.
    /// </summary>
    public static BatchParseError TryParseBatch(ReadOnlyMemory<byte> body, out List<BayeuxMessage> messages)
    {
        messages = [];
        try
        {
            var reader = new Utf8JsonReader(body.Span, ReaderOptions);
            if (!reader.Read())
            {
                return BatchParseError.MalformedJson;
            }
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                messages.Add(ReadMessage(ref reader, body));
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        messages.Add(ReadMessage(ref reader, body));
                    }
                    else
                    {
                        reader.Skip();
                        messages.Add(new BayeuxMessage { Invalid = BayeuxErrors.InvalidMessage("message_not_an_object") });
                    }
                }
            }
            else
            {
                return BatchParseError.NotAMessageOrArray;
            }
            // Trailing content after the top-level value is malformed JSON too.
            if (reader.Read())
            {
                return BatchParseError.MalformedJson;
            }
            return BatchParseError.None;
        }
        catch (JsonException)
        {
            messages.Clear();
            return BatchParseError.MalformedJson;
        }
    }

    private static BayeuxMessage ReadMessage(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body)
    {
        var message = new BayeuxMessage();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            // Property names are unescaped only when they need it; Bayeux clients never escape them.
            var key = reader.ValueIsEscaped ? reader.GetString()! : null;
            reader.Read();
            if (Is(name, key, "channel"u8))
            {
                message.Channel = ReadString(ref reader, message, "channel");
            }
            else if (Is(name, key, "id"u8))
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
                {
                    message.IdJson = Slice(ref reader, body);
                }
                else
                {
                    Reject(ref reader, message, "id");
                }
            }
            else if (Is(name, key, "clientId"u8))
            {
                message.ClientId = ReadString(ref reader, message, "clientId");
            }
            else if (Is(name, key, "data"u8))
            {
                message.DataJson = Slice(ref reader, body);
            }
            else if (Is(name, key, "ext"u8))
            {
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    message.Ext = JsonElement.ParseValue(ref reader);
                }
                else if (reader.TokenType == JsonTokenType.Null)
                {
                    message.Ext = null;
                }
                else
                {
                    Reject(ref reader, message, "ext");
                }
            }
            else if (Is(name, key, "advice"u8))
            {
                ReadAdvice(ref reader, message);
            }
            else if (Is(name, key, "subscription"u8))
            {
                ReadSubscription(ref reader, message);
            }
            else if (Is(name, key, "connectionType"u8))
            {
                message.ConnectionType = ReadString(ref reader, message, "connectionType");
            }
            else if (Is(name, key, "supportedConnectionTypes"u8))
            {
                message.SupportedConnectionTypes = ReadStringArray(ref reader, message, "supportedConnectionTypes");
            }
            else if (Is(name, key, "version"u8))
            {
                message.Version = ReadString(ref reader, message, "version");
            }
            else
            {
                reader.Skip();
            }
        }
        return message;
    }

    private static bool Is(ReadOnlySpan<byte> raw, string? unescaped, ReadOnlySpan<byte> expected) =>
        unescaped is null ? raw.SequenceEqual(expected) : System.Text.Encoding.UTF8.GetBytes(unescaped).AsSpan().SequenceEqual(expected);

    private static ReadOnlyMemory<byte> Slice(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return body[start..(int)reader.BytesConsumed];
    }

    private static string? ReadString(ref Utf8JsonReader reader, BayeuxMessage message, string field)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }
        if (reader.TokenType != JsonTokenType.Null)
        {
            Reject(ref reader, message, field);
        }
        return null;
    }

    private static List<string>? ReadStringArray(ref Utf8JsonReader reader, BayeuxMessage message, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            Reject(ref reader, message, field);
            return null;
        }
        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                values.Add(reader.GetString()!);
            }
            else
            {
                Reject(ref reader, message, field);
            }
        }
        return values;
    }

    private static void ReadSubscription(ref Utf8JsonReader reader, BayeuxMessage message)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            message.Subscriptions = [reader.GetString()!];
            message.SubscriptionIsArray = false;
        }
        else
        {
            message.Subscriptions = ReadStringArray(ref reader, message, "subscription");
            message.SubscriptionIsArray = true;
        }
    }

    private static void ReadAdvice(ref Utf8JsonReader reader, BayeuxMessage message)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Reject(ref reader, message, "advice");
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isTimeout = reader.ValueTextEquals("timeout"u8);
            reader.Read();
            if (isTimeout && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var timeout) && timeout >= 0)
            {
                message.AdviceTimeout = (long)Math.Min(timeout, long.MaxValue);
            }
            else if (isTimeout && reader.TokenType != JsonTokenType.Null)
            {
                Reject(ref reader, message, "advice.timeout");
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void Reject(ref Utf8JsonReader reader, BayeuxMessage message, string field)
    {
        reader.Skip();
        message.Invalid ??= BayeuxErrors.InvalidMessage($"invalid_field_{field}");
    }

    /// <summary>
    /// Encodes the event every subscriber of <paramref name="channel"/> receives, as a one-element array
    /// <c>[{"channel","data","id"}]</c>: the array is what a WebSocket sends, the object inside it what a batch embeds.
    /// </summary>
    public static byte[] EncodeEventFrame(string channel, ReadOnlySpan<byte> dataJson, ReadOnlySpan<byte> idJson)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + channel.Length + dataJson.Length + idJson.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStartObject();
            writer.WriteString("channel"u8, channel);
            writer.WritePropertyName("data"u8);
            writer.WriteRawValue(dataJson, skipInputValidation: true);
            if (!idJson.IsEmpty)
            {
                writer.WritePropertyName("id"u8);
                writer.WriteRawValue(idJson, skipInputValidation: true);
            }
            writer.WriteEndObject();
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the event object alone, <c>{"channel","data","id"}</c>.</summary>
    public static byte[] EncodeEvent(string channel, ReadOnlySpan<byte> dataJson, ReadOnlySpan<byte> idJson) =>
        EncodeEventFrame(channel, dataJson, idJson).AsSpan(1..^1).ToArray();

    /// <summary>Writes one outgoing batch: replies first, then events, as a single JSON array.</summary>
    public static void WriteBatch(Utf8JsonWriter writer, IReadOnlyList<BayeuxReply> replies, IReadOnlyList<ReadOnlyMemory<byte>> events)
    {
        writer.WriteStartArray();
        foreach (var reply in replies)
        {
            reply.WriteTo(writer);
        }
        foreach (var encoded in events)
        {
            writer.WriteRawValue(encoded.Span, skipInputValidation: true);
        }
        writer.WriteEndArray();
        writer.Flush();
    }
}
