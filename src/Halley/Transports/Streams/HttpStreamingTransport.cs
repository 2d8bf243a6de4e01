using System.Buffers;
using Halley.Channels;
using System.Text;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Streams;

/// <summary>
/// <c>GET /stream?channel=…</c>: the same events as <c>/sse</c>, as newline-delimited JSON over a chunked response
/// for <c>fetch()</c> readers; an empty line is a heartbeat. The first line is a control object (see
/// <see cref="StreamStart.ToJson"/>); <c>?lastEventId=</c> resumes from a position. With <c>?format=html&amp;callback=name</c> it is the
/// classic forever-frame: an HTML page of <c>&lt;script&gt;name({…});&lt;/script&gt;</c> chunks.
/// </summary>
internal sealed class HttpStreamingTransport(MessageHub engine, LiveConnections connections, HalleyMetrics metrics, BayeuxCors cors, ConnectionAuthorization authorization, Security.Auth.ChannelAuthorization channelAuthorization, IOptions<HalleyOptions> options, ILogger<HttpStreamingTransport> logger)
    : StreamingTransport(engine, connections, metrics, cors, authorization, channelAuthorization, options.Value, logger)
{
    private static readonly NdjsonStreamFormat Ndjson = new();

    protected override string Name => "stream";

    protected override StreamFormat? SelectFormat(HttpRequest request, out string? error)
    {
        error = null;
        var format = request.Query["format"];
        if (format.Count == 0 || format == "ndjson")
        {
            return Ndjson;
        }
        if (format != "html")
        {
            error = "Invalid 'format': 'ndjson' (the default) or 'html'.";
            return null;
        }
        var callback = request.Query["callback"].ToString();
        if (!ChannelPolicy.IsValidCallbackName(callback))
        {
            error = "Missing or invalid 'callback' name: " + ChannelPolicy.CallbackNameRule;
            return null;
        }
        return new HtmlStreamFormat(callback);
    }
}
