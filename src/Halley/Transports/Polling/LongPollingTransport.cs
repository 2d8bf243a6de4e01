using System.Text.Json;
using Halley.Http;
using Halley.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Polling;

/// <summary>
/// <c>long-polling</c> and <c>cross-origin-long-polling</c>: POST a JSON array (or a form field
/// <c>message=</c>), get a JSON array back; a <c>/meta/connect</c> is held until messages arrive or it times out.
/// </summary>
internal sealed class LongPollingTransport(PollingExchange exchange, Security.Limits.ClientLimits limits, IOptions<HalleyOptions> options)
{
    private readonly int _maxMessageSize = options.Value.MaxMessageSize;

    /// <summary>Serves one POST as <paramref name="connectionType"/>, which the endpoint decided (cross-origin when the request has an <c>Origin</c>).</summary>
    public async Task HandleAsync(HttpContext context, string connectionType)
    {
        var (status, json) = await HttpBatchReader.ReadAsync(context.Request, _maxMessageSize, context.RequestAborted).ConfigureAwait(false);
        switch (status)
        {
            case HttpBatchReader.Status.TooLarge:
                limits.Exceeded(Security.Limits.ClientLimits.Names.BodySize);
                await HttpResponses.WriteStatusAsync(context, StatusCodes.Status413PayloadTooLarge, $"Request body exceeds Halley:MaxMessageSize ({_maxMessageSize} bytes).").ConfigureAwait(false);
                return;
            case HttpBatchReader.Status.MissingMessageField:
                await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "Form body has no 'message' field.").ConfigureAwait(false);
                return;
        }
        await exchange.RunAsync(context, json, connectionType, WriteJsonAsync).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> writeBatch)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache, no-store";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writeBatch(writer);
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
