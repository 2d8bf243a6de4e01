using System.Buffers;
using System.Text.Json;

namespace Halley.Client.Internal;

/// <summary>Writes and reads Bayeux message arrays; every request and response on the wire is a JSON array.</summary>
internal static class MessageCodec
{
    public static readonly JsonElement NullElement = JsonSerializer.SerializeToElement<object?>(null);

    private static readonly string[] SupportedTypes = ["websocket", "long-polling"];

    public static IReadOnlyList<string> SupportedConnectionTypes => SupportedTypes;

    public static byte[] Encode(IReadOnlyList<OutboundMessage> messages)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, messages);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, IReadOnlyList<OutboundMessage> messages)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartArray();
        foreach (var message in messages)
        {
            WriteMessage(writer, message);
        }

        writer.WriteEndArray();
    }

    /// <summary>Parses a response body or frame: a JSON array of messages (a lone object is accepted too).</summary>
    /// <exception cref="JsonException">The payload is not JSON or holds something other than message objects.</exception>
    public static IReadOnlyList<InboundMessage> Parse(ReadOnlySpan<byte> utf8)
    {
        // Deserialize<JsonElement> copies into an unpooled document that lives as long as the elements do,
        // which suits events handed to user code.
        var root = JsonSerializer.Deserialize<JsonElement>(utf8);
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                var messages = new List<InboundMessage>(root.GetArrayLength());
                foreach (var item in root.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        throw new JsonException($"Expected a Bayeux message object, got {item.ValueKind}.");
                    }

                    messages.Add(new InboundMessage(item));
                }

                return messages;
            case JsonValueKind.Object:
                return [new InboundMessage(root)];
            default:
                throw new JsonException($"Expected a JSON array of Bayeux messages, got {root.ValueKind}.");
        }
    }

    /// <summary>Turns publish data into JSON: a <see cref="JsonElement"/> is taken as it is, anything else is serialized.</summary>
    public static JsonElement ToJson(object? data) => data switch
    {
        null => NullElement,
        JsonElement element => element,
        JsonDocument document => document.RootElement,
        _ => JsonSerializer.SerializeToElement(data, data.GetType(), JsonSerializerOptions.Web),
    };

    private static void WriteMessage(Utf8JsonWriter writer, OutboundMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("channel", message.Channel);
        WriteIfNotNull(writer, "clientId", message.ClientId);
        WriteIfNotNull(writer, "version", message.Version);
        if (message.SupportedConnectionTypes is { } types)
        {
            writer.WriteStartArray("supportedConnectionTypes");
            foreach (var type in types)
            {
                writer.WriteStringValue(type);
            }

            writer.WriteEndArray();
        }

        WriteIfNotNull(writer, "connectionType", message.ConnectionType);
        WriteIfNotNull(writer, "subscription", message.Subscription);
        if (message.AdviceTimeout is { } timeout)
        {
            writer.WriteStartObject("advice");
            writer.WriteNumber("timeout", timeout);
            writer.WriteEndObject();
        }

        if (message.Data is { } data)
        {
            writer.WritePropertyName("data");
            data.WriteTo(writer);
        }

        if (message.Ext is { } ext)
        {
            writer.WritePropertyName("ext");
            ext.WriteTo(writer);
        }

        WriteIfNotNull(writer, "id", message.Id);
        writer.WriteEndObject();
    }

    private static void WriteIfNotNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
