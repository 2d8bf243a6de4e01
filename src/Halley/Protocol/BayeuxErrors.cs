namespace Halley.Protocol;

/// <summary>
/// Bayeux error strings, in the spec's <c>code:args:message</c> form. Clients act on the advice that
/// comes with an error, not on the text, so the texts are short stable tokens that are easy to grep.
/// </summary>
internal static class BayeuxErrors
{
    public static string Format(int code, string args, string message) => $"{code}:{args}:{message}";

    public static readonly string SessionUnknown = Format(402, "", "session_unknown");
    public static readonly string HandshakeBatched = Format(400, "", "handshake_must_be_sent_alone");
    public static readonly string VersionMismatch = Format(300, "", "version_mismatch");
    public static readonly string VersionMissing = Format(400, "", "version_missing");
    public static readonly string EngineUnavailable = Format(503, "", "engine_unavailable");

    public static string InvalidMessage(string reason) => Format(400, "", reason);

    /// <summary>A message had a field twice (<paramref name="field"/>: one of Bayeux's, or one inside ext or advice; null for another).</summary>
    public static string DuplicateField(string? field) => Format(400, "", field is null ? "duplicate_field" : $"duplicate_field_{field}");

    public static string InvalidChannel(string channel) => Format(400, Sanitize(channel), "invalid_channel");

    public static string ConnectionTypeMismatch(string types) => Format(301, Sanitize(types), "connection_type_mismatch");

    public static string PublishForbidden(string channel, string reason) => Format(403, Sanitize(channel), reason);

    public static string SubscribeForbidden(string channel, string reason) => Format(403, Sanitize(channel), reason);

    public static string UnknownMetaChannel(string channel) => Format(400, Sanitize(channel), "unknown_meta_channel");

    public static string TooManySubscriptions(int limit) => Format(403, limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "too_many_subscriptions");

    public static string ServiceFailed(string channel) => Format(500, Sanitize(channel), "service_failed");

    /// <summary>An <c>IBayeuxExtension</c>'s incoming hook refused the message (CometD says <c>404::message_deleted</c>).</summary>
    public static string RefusedByExtension(string channel) => Format(403, Sanitize(channel), "refused_by_extension");

    // Error args are echoed from client input; keep them short and free of the separator.
    private static string Sanitize(string value)
    {
        var trimmed = value.Length > 128 ? value[..128] : value;
        return trimmed.Replace(':', '_');
    }
}
