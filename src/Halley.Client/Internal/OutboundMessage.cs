using System.Text.Json;

namespace Halley.Client.Internal;

/// <summary>A message this client sends. Null fields are left out of the JSON.</summary>
internal sealed class OutboundMessage
{
    public required string Channel { get; init; }

    public string? Id { get; init; }

    public string? ClientId { get; init; }

    public string? Version { get; init; }

    public IReadOnlyList<string>? SupportedConnectionTypes { get; init; }

    public string? ConnectionType { get; init; }

    public string? Subscription { get; init; }

    /// <summary>Only the connect's <c>advice.timeout</c> is ever sent (0 on the first connect, so it returns at once).</summary>
    public int? AdviceTimeout { get; init; }

    public JsonElement? Data { get; init; }

    public JsonElement? Ext { get; init; }
}
