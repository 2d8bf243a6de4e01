using System.Text.Json;

namespace Halley.Client;

/// <summary>An event the server delivered on a channel this client subscribed to.</summary>
public sealed class BayeuxMessage
{
    /// <summary>Creates a message; the client creates these, tests and decorators may too.</summary>
    /// <param name="channel">The channel the event was published on.</param>
    /// <param name="data">The published data.</param>
    /// <param name="id">The message id, when the server sent one.</param>
    /// <param name="ext">The message's <c>ext</c> object, when the server sent one.</param>
    public BayeuxMessage(string channel, JsonElement data, string? id = null, JsonElement? ext = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        Channel = channel;
        Data = data;
        Id = id;
        Ext = ext;
    }

    /// <summary>The concrete channel the event was published on (never a wildcard).</summary>
    public string Channel { get; }

    /// <summary>The published data; <see cref="JsonValueKind.Undefined"/> if the event had none.</summary>
    public JsonElement Data { get; }

    /// <summary>The message id, when the server sent one.</summary>
    public string? Id { get; }

    /// <summary>The message's <c>ext</c> object, when the server sent one.</summary>
    public JsonElement? Ext { get; }

    /// <summary>
    /// The message's position in the server's history (<c>ext.halley.position</c>), when its channel keeps one. An
    /// opaque string (today <c>epoch:offset</c>; the form may change): store it as it is to resume later with
    /// <see cref="BayeuxClient.SubscribeAsync(string, Action{BayeuxMessage}, string?, CancellationToken)"/>; do not
    /// parse or compare it. Null when the server sent none, or sent something other than a string.
    /// </summary>
    public string? Position =>
        Ext is { ValueKind: JsonValueKind.Object } ext
        && ext.TryGetProperty("halley", out var halley) && halley.ValueKind == JsonValueKind.Object
        && halley.TryGetProperty("position", out var position) && position.ValueKind == JsonValueKind.String
            ? position.GetString()
            : null;

    /// <summary>Deserializes <see cref="Data"/> to <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="options">Serializer options; the web defaults (camelCase) when null.</param>
    /// <returns>The data as <typeparamref name="T"/>.</returns>
    public T? GetData<T>(JsonSerializerOptions? options = null) =>
        Data.Deserialize<T>(options ?? JsonSerializerOptions.Web);
}
