using System.Text.Json;
using System.Text.Json.Nodes;

namespace Halley.Protocol;

/// <summary>A reply the server writes to one client message (meta replies, publish acknowledgements, service results).</summary>
internal sealed class BayeuxReply
{
    public BayeuxReply(string channel, BayeuxMessage? request)
    {
        Channel = channel;
        if (request is not null)
        {
            IdJson = request.IdJson;
        }
    }

    public string Channel { get; }
    public ReadOnlyMemory<byte> IdJson { get; }
    public string? ClientId { get; set; }
    public bool Successful { get; set; }
    public string? Error { get; set; }
    public Advice? Advice { get; set; }
    public IReadOnlyList<string>? Subscriptions { get; set; }
    public bool SubscriptionIsArray { get; set; }
    public bool IncludeHandshakeFields { get; set; }
    public JsonObject? Ext { get; set; }

    /// <summary>Raw JSON result of a service channel call.</summary>
    public ReadOnlyMemory<byte> DataJson { get; set; }

    public static BayeuxReply Failure(BayeuxMessage request, string error, Advice? advice = null) =>
        new(request.Channel ?? "", request) { Successful = false, Error = error, Advice = advice, ClientId = request.ClientId };

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("channel"u8, Channel);
        if (!IdJson.IsEmpty)
        {
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(IdJson.Span, skipInputValidation: true);
        }
        if (ClientId is not null)
        {
            writer.WriteString("clientId"u8, ClientId);
        }
        writer.WriteBoolean("successful"u8, Successful);
        if (Error is not null)
        {
            writer.WriteString("error"u8, Error);
        }
        if (IncludeHandshakeFields)
        {
            writer.WriteString("version"u8, "1.0");
            writer.WriteString("minimumVersion"u8, "1.0");
            writer.WriteStartArray("supportedConnectionTypes"u8);
            foreach (var type in ConnectionTypes.Supported)
            {
                writer.WriteStringValue(type);
            }
            writer.WriteEndArray();
        }
        if (Subscriptions is not null)
        {
            if (SubscriptionIsArray || Subscriptions.Count != 1)
            {
                writer.WriteStartArray("subscription"u8);
                foreach (var subscription in Subscriptions)
                {
                    writer.WriteStringValue(subscription);
                }
                writer.WriteEndArray();
            }
            else
            {
                writer.WriteString("subscription"u8, Subscriptions[0]);
            }
        }
        if (Advice is not null)
        {
            WriteAdvice(writer, Advice);
        }
        if (!DataJson.IsEmpty)
        {
            writer.WritePropertyName("data"u8);
            writer.WriteRawValue(DataJson.Span, skipInputValidation: true);
        }
        if (Ext is not null)
        {
            writer.WritePropertyName("ext"u8);
            Ext.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void WriteAdvice(Utf8JsonWriter writer, Advice advice)
    {
        writer.WriteStartObject("advice"u8);
        if (advice.Reconnect != ReconnectAdvice.None)
        {
            writer.WriteString("reconnect"u8, Protocol.Advice.ToWire(advice.Reconnect));
        }
        if (advice.Interval is { } interval)
        {
            writer.WriteNumber("interval"u8, interval);
        }
        if (advice.Timeout is { } timeout)
        {
            writer.WriteNumber("timeout"u8, timeout);
        }
        if (advice.MaxInterval is { } maxInterval)
        {
            writer.WriteNumber("maxInterval"u8, maxInterval);
        }
        writer.WriteEndObject();
    }
}
