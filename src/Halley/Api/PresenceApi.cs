using System.Globalization;
using System.Text.Json;
using Halley.Channels;
using Halley.Engine;
using Halley.Http;
using Halley.Presence;
using Halley.Security;
using Microsoft.AspNetCore.Http;

namespace Halley.Api;

/// <summary>
/// <c>GET /api/presence?channel=/chat/room</c>: who is subscribed to a channel (client ids of the Bayeux sessions
/// subscribed to its exact name), and <c>GET /api/channels[?pattern=/chat/**]</c>: the channels that have members.
/// Across the cluster on the Redis engine, for this node otherwise (see <see cref="IPresenceStore"/>).
/// </summary>
internal sealed class PresenceApi(IPresenceStore presence, ApiKeyAuthorization authorization)
{
    /// <summary>Members or channels listed when the request does not say.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>Most members or channels one answer lists.</summary>
    public const int MaxLimit = 10_000;

    public async Task MembersAsync(HttpContext context)
    {
        if (!await authorization.AuthorizeAsync(context, ApiKeyAuthorization.PresenceScope).ConfigureAwait(false))
        {
            return;
        }
        var channel = context.Request.Query["channel"];
        if (channel.Count != 1 || ChannelPolicy.ForBroadcast(channel[0]) != ChannelVerdict.Allowed)
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "Give one 'channel': a broadcast channel name, with no wildcard, outside /meta and /service.").ConfigureAwait(false);
            return;
        }
        if (await TryReadLimitAsync(context) is not { } limit)
        {
            return;
        }
        PresenceList members;
        try
        {
            members = await presence.MembersAsync(channel[0]!, limit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (EngineUnavailableException unavailable)
        {
            await HttpResponses.WriteUnavailableAsync(context, unavailable).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("channel"u8, channel[0]);
        writer.WriteNumber("count"u8, members.Count);
        writer.WriteStartArray("members"u8);
        foreach (var member in members.Members)
        {
            writer.WriteStartObject();
            writer.WriteString("clientId"u8, member);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public async Task ChannelsAsync(HttpContext context)
    {
        if (!await authorization.AuthorizeAsync(context, ApiKeyAuthorization.PresenceScope).ConfigureAwait(false))
        {
            return;
        }
        var pattern = context.Request.Query["pattern"];
        if (pattern.Count > 1 || (pattern.Count == 1 && !ChannelName.IsValid(pattern[0], out _)))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, $"Invalid 'pattern': {ChannelPolicy.ChannelNameRule}.").ConfigureAwait(false);
            return;
        }
        if (await TryReadLimitAsync(context) is not { } limit)
        {
            return;
        }
        IReadOnlyList<ChannelPresence> channels;
        try
        {
            channels = await presence.ChannelsAsync(pattern.Count == 1 ? pattern[0] : null, limit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (EngineUnavailableException unavailable)
        {
            await HttpResponses.WriteUnavailableAsync(context, unavailable).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("channels"u8);
        foreach (var entry in channels)
        {
            writer.WriteStartObject();
            writer.WriteString("channel"u8, entry.Channel);
            writer.WriteNumber("members"u8, entry.Members);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The <c>limit</c> parameter (1 to <see cref="MaxLimit"/>, default <see cref="DefaultLimit"/>); null after answering 400.</summary>
    private static async Task<int?> TryReadLimitAsync(HttpContext context)
    {
        var text = context.Request.Query["limit"];
        if (text.Count == 0)
        {
            return DefaultLimit;
        }
        if (text.Count == 1 && int.TryParse(text[0], NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit)
        {
            return limit;
        }
        await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, $"Invalid 'limit': 1 to {MaxLimit}.").ConfigureAwait(false);
        return null;
    }
}
