using System.Globalization;
using System.Text.Json;

namespace Halley.Client.Internal;

/// <summary>A message from the server: a reply (it has <c>successful</c>) or an event (it does not).</summary>
internal readonly struct InboundMessage(JsonElement json)
{
    public JsonElement Json { get; } = json;

    /// <summary>
    /// Where the message came in the client's own arrival order (1, 2, …, across connections and sessions); 0 until the
    /// client stamped it. Positions are opaque, so "the last position received" is decided by this, never by them.
    /// </summary>
    public long Arrival { get; init; }

    public string? Channel => GetString("channel");

    /// <summary>The id as a string; a numeric id (which some servers echo) is read as its text.</summary>
    public string? Id => Json.TryGetProperty("id", out var id)
        ? id.ValueKind switch
        {
            JsonValueKind.String => id.GetString(),
            JsonValueKind.Number => id.GetRawText(),
            _ => null,
        }
        : null;

    /// <summary>
    /// Replies carry <c>successful</c>; events never do. Matching replies by this rather than by id matters:
    /// an event's id was chosen by its publisher and may equal one of ours.
    /// </summary>
    public bool IsReply => Json.TryGetProperty("successful", out _);

    public bool Successful => Json.TryGetProperty("successful", out var s) && s.ValueKind == JsonValueKind.True;

    public string? Error => GetString("error");

    public string? ClientId => GetString("clientId");

    public string? Subscription => GetString("subscription");

    public JsonElement? Data => Json.TryGetProperty("data", out var data) ? data : null;

    public JsonElement? Ext => Json.TryGetProperty("ext", out var ext) && ext.ValueKind == JsonValueKind.Object ? ext : null;

    public Advice? Advice
    {
        get
        {
            if (!Json.TryGetProperty("advice", out var advice) || advice.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var reconnect = advice.TryGetProperty("reconnect", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return new Advice(reconnect, GetMilliseconds(advice, "interval"), GetMilliseconds(advice, "timeout"));
        }
    }

    /// <summary>The session token from <c>ext.halley.token</c>, which lets a new WebSocket resume this session.</summary>
    public string? HalleyToken => GetHalley("token") is { ValueKind: JsonValueKind.String } token ? token.GetString() : null;

    /// <summary>
    /// The history position from <c>ext.halley.position</c>: an event's own, or a subscribe reply's starting point. An
    /// opaque string, kept and sent back as it is; never parsed or compared (its form is the server's business).
    /// </summary>
    public string? HalleyPosition => GetHalley("position") is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    /// <summary>A subscribe reply's <c>ext.halley.recovered</c>: whether every missed message is being replayed.</summary>
    public bool HalleyRecovered => GetHalley("recovered") is { ValueKind: JsonValueKind.True };

    private JsonElement? GetHalley(string name) =>
        Ext is { } ext
        && ext.TryGetProperty("halley", out var halley) && halley.ValueKind == JsonValueKind.Object
        && halley.TryGetProperty(name, out var value)
            ? value
            : null;

    /// <summary>True for a reply that means the session is gone: error 402 or advice to handshake.</summary>
    public bool MeansSessionLost =>
        IsReply && !Successful
        && (BayeuxError.ParseCode(Error) == BayeuxError.SessionUnknown || Advice?.SaysHandshake == true);

    private string? GetString(string name) =>
        Json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? GetMilliseconds(JsonElement advice, string name)
    {
        if (!advice.TryGetProperty(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            return (int)Math.Clamp(number, 0, int.MaxValue);
        }

        return value.ValueKind == JsonValueKind.String
            && int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : null;
    }
}
