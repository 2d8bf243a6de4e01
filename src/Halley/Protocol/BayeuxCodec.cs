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
    /// <summary>Error of a message larger than <see cref="BatchLimits.MaxMessageSize"/>.</summary>
    public static readonly string MessageTooLarge = BayeuxErrors.Format(413, "", "message_too_large");

    /// <summary>Parses a batch within the default limits (<see cref="BatchLimits.Default"/>).</summary>
    public static BatchParseError TryParseBatch(ReadOnlyMemory<byte> body, out List<BayeuxMessage> messages) =>
        TryParseBatch(body, BatchLimits.Default, out messages);

    /// <summary>
    /// Parses a JSON array of messages, or a single message object, within <paramref name="limits"/>.
    /// <paramref name="body"/> must stay alive as long as the messages: their <c>id</c> and <c>data</c> point into it.
    /// </summary>
    public static BatchParseError TryParseBatch(ReadOnlyMemory<byte> body, BatchLimits limits, out List<BayeuxMessage> messages)
    {
        messages = [];
        // Checked up front, over the whole body (vectorized): data is passed on as it came, and bytes that are not UTF-8
        // would reach every subscriber (a browser closes a WebSocket whose text frame is not UTF-8), and a string
        // the reader cannot transcode would throw where a JsonException is expected.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return BatchParseError.InvalidUtf8;
        }
        // Declared outside the try: after a JsonException its depth tells a too-deep batch from a malformed one.
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = limits.MaxDepth });
        try
        {
            if (!reader.Read())
            {
                return BatchParseError.MalformedJson;
            }
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                messages.Add(ReadMessage(ref reader, body, limits));
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (messages.Count == limits.MaxMessages)
                    {
                        // Refused before the rest is read: a huge batch costs no more than its first messages.
                        messages.Clear();
                        return BatchParseError.TooManyMessages;
                    }
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        messages.Add(ReadMessage(ref reader, body, limits));
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
            return IsTooDeep(ref reader, body.Span, limits.MaxDepth) ? BatchParseError.TooDeep : BatchParseError.MalformedJson;
        }
    }

    /// <summary>
    /// Whether the reader stopped because the next array or object would have been one level too deep: it stands at the
    /// deepest level allowed and the next value (past separators) opens another one. Anything else is malformed JSON.
    /// </summary>
    private static bool IsTooDeep(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int maxDepth)
    {
        // The depth of a StartArray or StartObject token is that of its container: the next level opens one deeper.
        var depth = reader.CurrentDepth + (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? 1 : 0);
        if (depth < maxDepth)
        {
            return false;
        }
        var rest = body[(int)reader.BytesConsumed..].TrimStart(" \t\r\n,:"u8);
        return !rest.IsEmpty && rest[0] is (byte)'[' or (byte)'{';
    }

    /// <summary>The fields Bayeux defines, in <see cref="FieldNames"/> order.</summary>
    private enum Field
    {
        Channel,
        Id,
        ClientId,
        Data,
        Ext,
        Advice,
        Subscription,
        ConnectionType,
        SupportedConnectionTypes,
        Version,
    }

    private static readonly string[] FieldNames =
        ["channel", "id", "clientId", "data", "ext", "advice", "subscription", "connectionType", "supportedConnectionTypes", "version"];

    private static readonly byte[][] FieldNamesUtf8 = [.. FieldNames.Select(System.Text.Encoding.UTF8.GetBytes)];

    private static BayeuxMessage ReadMessage(ref Utf8JsonReader reader, ReadOnlyMemory<byte> body, BatchLimits limits)
    {
        var message = new BayeuxMessage();
        var start = reader.TokenStartIndex;
        var names = new SeenNames();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            // A field given twice is ambiguous (which one would a proxy, a log or another server read?): the message is
            // refused, not guessed at, and nothing of the second value is used.
            var first = names.Add(field is { } known ? (int)known : -1, ref reader);
            reader.Read();
            if (!first)
            {
                Duplicate(ref reader, message, field is { } f ? FieldNames[(int)f] : null);
                continue;
            }
            switch (field)
            {
                case Field.Channel:
                    message.Channel = ReadString(ref reader, message, "channel");
                    break;
                case Field.Id:
                    if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
                    {
                        message.IdJson = Slice(ref reader, body);
                    }
                    else
                    {
                        Reject(ref reader, message, "id");
                    }
                    break;
                case Field.ClientId:
                    message.ClientId = ReadString(ref reader, message, "clientId");
                    break;
                case Field.Data:
                    // Passed on as it came: what data means is the application's business, not the server's.
                    message.DataJson = Slice(ref reader, body);
                    break;
                case Field.Ext:
                    ReadExt(ref reader, message, body, limits.MaxDepth);
                    break;
                case Field.Advice:
                    ReadAdvice(ref reader, message);
                    break;
                case Field.Subscription:
                    ReadSubscription(ref reader, message);
                    break;
                case Field.ConnectionType:
                    message.ConnectionType = ReadString(ref reader, message, "connectionType");
                    break;
                case Field.SupportedConnectionTypes:
                    message.SupportedConnectionTypes = ReadStringArray(ref reader, message, "supportedConnectionTypes");
                    break;
                case Field.Version:
                    message.Version = ReadString(ref reader, message, "version");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (reader.BytesConsumed - start > limits.MaxMessageSize)
        {
            // The size says more than any other fault: it is what the sender must change.
            message.Invalid = MessageTooLarge;
        }
        return message;
    }

    /// <summary>The Bayeux field the reader's property name is; null for another.</summary>
    private static Field? FieldOf(ref Utf8JsonReader reader)
    {
        var name = reader.ValueSpan;
        // Property names are unescaped only when they need it; Bayeux clients never escape them.
        var key = reader.ValueIsEscaped ? reader.GetString()! : null;
        for (var i = 0; i < FieldNamesUtf8.Length; i++)
        {
            if (Is(name, key, FieldNamesUtf8[i]))
            {
                return (Field)i;
            }
        }
        return null;
    }

    /// <summary>
    /// The property names one object has had so far: known fields (by index) in a bit set, others in a set made only
    /// when one appears.
    /// </summary>
    private struct SeenNames
    {
        private int _known;
        private HashSet<string>? _others;

        /// <summary>Adds the property the reader is on (<paramref name="known"/>, or -1 to read its name); false when it was there already.</summary>
        public bool Add(int known, ref Utf8JsonReader reader)
        {
            if (known < 0)
            {
                return (_others ??= new HashSet<string>(StringComparer.Ordinal)).Add(reader.GetString()!);
            }
            var bit = 1 << known;
            var first = (_known & bit) == 0;
            _known |= bit;
            return first;
        }
    }

    private static void Duplicate(ref Utf8JsonReader reader, BayeuxMessage message, string? field)
    {
        reader.Skip();
        message.Invalid ??= BayeuxErrors.DuplicateField(field);
    }

    private static void ReadExt(ref Utf8JsonReader reader, BayeuxMessage message, ReadOnlyMemory<byte> body, int maxDepth)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var raw = Slice(ref reader, body);
            try
            {
                // ext is read whole into a JsonElement; it must not be ambiguous either (ext.halley.token, ext.ack, an
                // extension's own fields). Its syntax and depth were already checked by the batch's reader.
                message.Ext = JsonElement.Parse(raw.Span, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = maxDepth });
            }
            catch (JsonException)
            {
                // The syntax was valid (the batch's reader skipped over it): a property is there twice.
                message.Invalid ??= BayeuxErrors.DuplicateField("ext");
            }
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
        var names = new SeenNames();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isTimeout = reader.ValueTextEquals("timeout"u8);
            var first = names.Add(isTimeout ? 0 : -1, ref reader);
            reader.Read();
            if (!first)
            {
                Duplicate(ref reader, message, "advice");
            }
            else if (isTimeout && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var timeout) && timeout >= 0)
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
