using System.Text.Json;

namespace Halley.Client;

/// <summary>A reply the server sent on a <c>/meta/</c> channel; see <see cref="BayeuxClient.MetaReplyReceived"/>.</summary>
public sealed class BayeuxMetaReplyEventArgs : EventArgs
{
    /// <summary>Creates the arguments for one reply; the client creates these, tests and decorators may too.</summary>
    /// <param name="message">The reply as the server sent it: a JSON object with <c>channel</c> and <c>successful</c>.</param>
    public BayeuxMetaReplyEventArgs(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A Bayeux reply is a JSON object.", nameof(message));
        }

        Message = message;
    }

    /// <summary>The reply's channel: <c>/meta/handshake</c>, <c>/meta/connect</c>, <c>/meta/subscribe</c>, <c>/meta/unsubscribe</c> or <c>/meta/disconnect</c>.</summary>
    public string Channel => GetString("channel") ?? string.Empty;

    /// <summary>Whether the server said <c>"successful":true</c>.</summary>
    public bool Successful => Message.TryGetProperty("successful", out var successful) && successful.ValueKind == JsonValueKind.True;

    /// <summary>The reply's <c>error</c> (e.g. <c>402::session_unknown</c>), when it failed with one.</summary>
    public string? Error => GetString("error");

    /// <summary>The whole reply, with its <c>advice</c>, <c>ext</c> and the rest as the server sent them.</summary>
    public JsonElement Message { get; }

    private string? GetString(string name) =>
        Message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
