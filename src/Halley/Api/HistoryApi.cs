using System.Globalization;
using System.Text.Json;
using Halley.Engine;
using Halley.Http;
using Halley.Security;
using Halley.Security.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Api;

/// <summary>
/// <c>GET /api/history?channel=…[&amp;channel=…][&amp;since=epoch:offset][&amp;limit=N]</c>: the retained messages of
/// the channels (names or patterns) after a position, oldest first, for backends that catch up or audit.
/// Answers <c>{"messages":[{"channel","data","position"}…],"complete":…,"more":…,"next":…}</c>; page on with
/// <c>since=next</c> while <c>more</c> is true. A backend calls it with an API key (scope <c>history</c>); a client may
/// call it with its connection token (or as the host's authenticated user), and then reads only channels it may
/// subscribe to.
/// </summary>
internal sealed class HistoryApi(MessageHub engine, ApiKeyAuthorization authorization, ConnectionAuthentication users, ChannelAuthorization channelAuthorization, IOptions<HalleyOptions> options)
{
    /// <summary>Messages per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Most messages one page may hold.</summary>
    public const int MaxLimit = 1000;

    public async Task HandleAsync(HttpContext context)
    {
        var denied = authorization.Check(context, ApiKeyAuthorization.HistoryScope);
        System.Security.Claims.ClaimsPrincipal? user = null;
        // A configured key identifies the backend; without one, a loopback caller is the backend unless it comes as a
        // client, with its own token or as the host's user.
        if (denied != 0 || !authorization.HasKeys)
        {
            var (client, tokenRefused) = await users.AuthenticateHttpAsync(context).ConfigureAwait(false);
            if (tokenRefused is not null)
            {
                await HttpResponses.WriteStatusAsync(context, StatusCodes.Status401Unauthorized, tokenRefused).ConfigureAwait(false);
                return;
            }
            if (client is null && denied != 0)
            {
                await authorization.RefuseAsync(context, denied).ConfigureAwait(false);
                return;
            }
            user = client;
        }
        var query = context.Request.Query;
        if (!StreamQuery.TryReadChannels(query["channel"], options.Value.Streaming.MaxChannelsPerRequest, out var channels, out var error)
            || !StreamQuery.TryReadPosition(query["since"], out var since, out error,
                "Invalid 'since': a position, 'epoch:offset', as /api/publish, /api/history or a delivered message gave it.")
            || !TryReadLimit(query["limit"], out var limit, out error))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }
        if (user is not null)
        {
            foreach (var channel in channels)
            {
                if (await channelAuthorization.CheckAsync(Security.ChannelOperation.Subscribe, channel, user, "history", null, null, context.RequestAborted).ConfigureAwait(false) is { } reason)
                {
                    await HttpResponses.WriteStatusAsync(context, StatusCodes.Status403Forbidden, $"{channel}: {reason}").ConfigureAwait(false);
                    return;
                }
            }
        }
        HistoryPage page;
        try
        {
            page = await engine.ReadHistoryAsync(channels, since, limit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (EngineUnavailableException unavailable)
        {
            await HttpResponses.WriteUnavailableAsync(context, unavailable).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("messages"u8);
        foreach (var message in page.Messages)
        {
            writer.WriteRawValue(StreamPayload.Of(message), skipInputValidation: true);
        }
        writer.WriteEndArray();
        // Without a since there is nothing to be complete relative to: the field says so by being null.
        if (since is null)
        {
            writer.WriteNull("complete"u8);
        }
        else
        {
            writer.WriteBoolean("complete"u8, page.Complete);
        }
        writer.WriteBoolean("more"u8, page.More);
        writer.WriteString("next"u8, page.Next.ToString());
        writer.WriteEndObject();
    }

    private static bool TryReadLimit(Microsoft.Extensions.Primitives.StringValues values, out int limit, out string? error)
    {
        error = null;
        limit = DefaultLimit;
        if (values.Count == 0)
        {
            return true;
        }
        if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)
        {
            error = $"Invalid 'limit': a number from 1 to {MaxLimit}.";
            return false;
        }
        return true;
    }
}
