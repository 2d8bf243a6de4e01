using System.Text;
using Halley.Channels;
using Halley.Engine;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Halley.Http;

/// <summary>
/// Reads what the HTTP endpoints take in their query and headers: the channels of <c>/sse</c>, <c>/stream</c> and
/// <c>/api/history</c>, and a position to resume or read from. Shared by the streams and the backend API, so both
/// refuse the same input with the same words.
/// </summary>
internal static class StreamQuery
{
    /// <summary>
    /// The position to resume from: the <c>Last-Event-ID</c> header an <c>EventSource</c> sends when it reconnects,
    /// else <c>?lastEventId=</c>. The header wins: a reconnecting EventSource keeps its first URL, query included.
    /// </summary>
    internal static bool TryReadResumePosition(HttpRequest request, out StreamPosition? since, out string? error)
    {
        var header = request.Headers["Last-Event-ID"];
        var (value, name) = header.Count > 0 ? (header, "Last-Event-ID") : (request.Query["lastEventId"], "lastEventId");
        return TryReadPosition(value, out since, out error,
            $"Invalid '{name}': a position this server sent, 'epoch:offset' (an SSE id:, or a \"position\" of the stream).");
    }

    /// <summary>
    /// A position given once in a header or query parameter, or none (absent or empty); anything else is
    /// <paramref name="invalid"/>, the error text for HTTP 400.
    /// </summary>
    internal static bool TryReadPosition(StringValues values, out StreamPosition? position, out string? error, string invalid)
    {
        position = null;
        error = null;
        if (values.Count == 0 || (values.Count == 1 && string.IsNullOrEmpty(values[0])))
        {
            return true;
        }
        if (values.Count > 1 || !StreamPosition.TryParse(values[0], out var parsed))
        {
            error = invalid;
            return false;
        }
        position = parsed;
        return true;
    }

    /// <summary>
    /// The same rules as a Bayeux <c>/meta/subscribe</c>: valid names or patterns, no <c>/meta/**</c>, no
    /// <c>/service/**</c>; plus at least one channel and at most <paramref name="limit"/>. Duplicates count once.
    /// </summary>
    internal static bool TryReadChannels(StringValues values, int limit, out List<string> channels, out string? error)
    {
        channels = [];
        error = null;
        foreach (var value in values)
        {
            switch (ChannelPolicy.ForSubscribe(value))
            {
                case ChannelVerdict.Invalid:
                    error = $"Invalid channel '{Printable(value)}': channels are {ChannelPolicy.ChannelNameRule}.";
                    return false;
                case ChannelVerdict.Meta:
                    error = $"Channel '{value}' is a /meta channel: meta channels are not subscribable.";
                    return false;
                case ChannelVerdict.Service:
                    error = $"Channel '{value}' is a /service channel: service channels are not broadcast.";
                    return false;
            }
            if (!channels.Contains(value!))
            {
                channels.Add(value!);
            }
            if (channels.Count > limit)
            {
                error = $"Too many channels: at most {limit} per request (Halley:Streaming:MaxChannelsPerRequest).";
                return false;
            }
        }
        if (channels.Count == 0)
        {
            error = "Missing 'channel' query parameter: give at least one, e.g. ?channel=/chat/room1&channel=/news/**";
            return false;
        }
        return true;
    }

    private static string Printable(string? value)
    {
        if (value is null)
        {
            return "";
        }
        var builder = new StringBuilder(Math.Min(value.Length, 64));
        foreach (var c in value.AsSpan(0, Math.Min(value.Length, 64)))
        {
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return builder.ToString();
    }
}
