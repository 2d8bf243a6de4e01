using System.Buffers;
using System.Text;
using System.Text.Json;
using Halley.Channels;
using Halley.Http;
using Halley.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Polling;

/// <summary>
/// <c>callback-polling</c> (JSONP): <c>GET ?message=[…]&amp;jsonp=name</c>, answered with
/// <c>name([…]);</c> as <c>text/javascript</c>, for browsers where neither WebSocket nor CORS is available.
/// </summary>
internal sealed class CallbackPollingTransport(PollingExchange exchange, Security.Limits.ClientLimits limits, IOptions<HalleyOptions> options)
{
    private readonly int _maxMessageSize = options.Value.MaxMessageSize;

    public async Task HandleAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var callback = query["jsonp"].ToString();
        if (!ChannelPolicy.IsValidCallbackName(callback))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "Missing or invalid 'jsonp' callback name: " + ChannelPolicy.CallbackNameRule).ConfigureAwait(false);
            return;
        }
        var message = query["message"].ToString();
        if (message.Length == 0)
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "Missing 'message' query parameter.").ConfigureAwait(false);
            return;
        }
        var json = Encoding.UTF8.GetBytes(message);
        if (json.Length > _maxMessageSize)
        {
            limits.Exceeded(Security.Limits.ClientLimits.Names.BodySize);
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge, $"Message exceeds Halley:MaxMessageSize ({_maxMessageSize} bytes).").ConfigureAwait(false);
            return;
        }
        await exchange.RunAsync(context, json, ConnectionTypes.CallbackPolling, (ctx, writeBatch) => WriteScriptAsync(ctx, callback, writeBatch)).ConfigureAwait(false);
    }

    private static async Task WriteScriptAsync(HttpContext context, string callback, Action<Utf8JsonWriter> writeBatch)
    {
        var response = context.Response;
        response.ContentType = "text/javascript; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        var body = response.BodyWriter;
        // The leading comment keeps a response from starting with attacker-chosen bytes (Rosetta Flash style attacks).
        body.Write("/**/"u8);
        body.Write(Encoding.ASCII.GetBytes(callback));
        body.Write("("u8);
        // The default encoder escapes <, >, & and U+2028/2029, so the array cannot break out of the script.
        await using (var writer = new Utf8JsonWriter(body))
        {
            writeBatch(writer);
        }
        body.Write(");"u8);
        await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
