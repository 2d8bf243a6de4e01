using System.Runtime.InteropServices;
using System.Text.Json;
using Halley.Channels;
using Halley.Engine;
using Halley.Http;
using Halley.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Api;

/// <summary>
/// <c>POST /api/publish</c> <c>{"channel":"/a/b","data":…}</c>: publishes from a backend, answers
/// <c>{"channel":…,"position":…}</c> (the position is null when the channel keeps no history). With an
/// <c>Idempotency-Key</c> header, a retry of the same publish within <see cref="ApiOptions.IdempotencyWindow"/> is
/// answered with the first one's position and <c>"duplicate":true</c>, and delivered to no one again.
/// </summary>
internal sealed class PublishApi(MessageHub engine, ApiKeyAuthorization authorization, IOptions<HalleyOptions> options)
{
    private readonly int _maxMessageSize = options.Value.MaxMessageSize;

    public async Task HandleAsync(HttpContext context)
    {
        if (!await authorization.AuthorizeAsync(context, ApiKeyAuthorization.PublishScope).ConfigureAwait(false))
        {
            return;
        }
        var (status, body) = await HttpBatchReader.ReadAsync(context.Request, _maxMessageSize, context.RequestAborted).ConfigureAwait(false);
        if (status == HttpBatchReader.Status.TooLarge)
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge, $"Body exceeds Halley:MaxMessageSize ({_maxMessageSize} bytes).").ConfigureAwait(false);
            return;
        }
        if (!TryRead(body, out var channel, out var data, out var error) || !TryReadIdempotencyKey(context.Request, out var idempotencyKey, out error))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
            return;
        }
        EncodedMessage published;
        try
        {
            published = await engine.PublishAsync(channel, data, default, context.RequestAborted, idempotencyKey).ConfigureAwait(false);
        }
        catch (EngineUnavailableException unavailable)
        {
            // Not dropped silently: the backend is told to retry (a timed-out publish may have gone through).
            await HttpResponses.WriteUnavailableAsync(context, unavailable).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("channel"u8, channel);
        if (published.Position is { } position)
        {
            writer.WriteString("position"u8, position.ToString());
        }
        else
        {
            writer.WriteNull("position"u8);
        }
        if (published.IsDuplicate)
        {
            writer.WriteBoolean("duplicate"u8, true);
        }
        writer.WriteEndObject();
    }

    /// <summary>Longest <c>Idempotency-Key</c> accepted.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>Reads the optional <c>Idempotency-Key</c> header: 1 to 128 visible ASCII characters, given once.</summary>
    private static bool TryReadIdempotencyKey(HttpRequest request, out string? key, out string error)
    {
        key = null;
        error = "";
        if (!request.Headers.TryGetValue("Idempotency-Key", out var values))
        {
            return true;
        }
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= MaxIdempotencyKeyLength } value || !value.All(static c => c is > ' ' and <= '~'))
        {
            error = $"Invalid Idempotency-Key: give it once, 1 to {MaxIdempotencyKeyLength} visible ASCII characters (a UUID is fine).";
            return false;
        }
        key = value;
        return true;
    }

    private static bool TryRead(ReadOnlyMemory<byte> body, out string channel, out ReadOnlyMemory<byte> data, out string error)
    {
        channel = "";
        data = default;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("channel", out var channelElement) || channelElement.ValueKind != JsonValueKind.String)
            {
                error = "Expected a JSON object with a string 'channel' and a 'data' value.";
                return false;
            }
            if (FindDuplicate(root) is { } duplicate)
            {
                // Ambiguous: which 'channel' was meant? Refused, never guessed at (as the Bayeux endpoint does).
                error = $"'{duplicate}' is given twice.";
                return false;
            }
            channel = channelElement.GetString()!;
            if (ChannelPolicy.ForBroadcast(channel) != ChannelVerdict.Allowed)
            {
                error = $"'{channel}' is not a broadcast channel: use /segment/segment with no wildcard, outside /meta and /service.";
                return false;
            }
            if (!root.TryGetProperty("data", out var dataElement))
            {
                error = "Missing 'data'.";
                return false;
            }
            data = JsonMarshal.GetRawUtf8Value(dataElement).ToArray();
            error = "";
            return true;
        }
        catch (JsonException)
        {
            error = "Malformed JSON.";
            return false;
        }
    }

    /// <summary>A property <paramref name="root"/> has twice, if any; data's content is the application's and passed on as it came.</summary>
    private static string? FindDuplicate(JsonElement root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                return property.Name.Length > 64 ? property.Name[..64] : property.Name;
            }
        }
        return null;
    }
}
