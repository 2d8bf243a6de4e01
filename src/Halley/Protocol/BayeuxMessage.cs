using System.Text.Json;

namespace Halley.Protocol;

/// <summary>
/// One Bayeux message as a client sent it. Fields are kept as close to the wire as the server needs:
/// <c>id</c> and <c>data</c> stay raw JSON so they can be echoed and fanned out without re-serializing.
/// </summary>
internal sealed class BayeuxMessage
{
    public string? Channel { get; set; }

    /// <summary>The raw JSON token of <c>id</c> (a string or number), echoed verbatim in the reply.</summary>
    public ReadOnlyMemory<byte> IdJson { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The raw JSON of <c>data</c>; empty when the field is absent.</summary>
    public ReadOnlyMemory<byte> DataJson { get; set; }

    public bool HasData => !DataJson.IsEmpty;

    public JsonElement? Ext { get; set; }

    /// <summary>The client's requested hold time for a <c>/meta/connect</c>, in milliseconds.</summary>
    public long? AdviceTimeout { get; set; }

    public IReadOnlyList<string>? Subscriptions { get; set; }

    /// <summary>Whether <c>subscription</c> came as an array, so the reply uses the same form.</summary>
    public bool SubscriptionIsArray { get; set; }

    public string? ConnectionType { get; set; }

    public IReadOnlyList<string>? SupportedConnectionTypes { get; set; }

    public string? Version { get; set; }

    /// <summary>Set when a field had the wrong JSON type: the message is answered with this error and not processed.</summary>
    public string? Invalid { get; set; }

    /// <summary>Reads <c>ext.&lt;name&gt;</c> when ext is an object that has it.</summary>
    public bool TryGetExt(string name, out JsonElement value)
    {
        if (Ext is { ValueKind: JsonValueKind.Object } ext && ext.TryGetProperty(name, out value))
        {
            return true;
        }
        value = default;
        return false;
    }
}
