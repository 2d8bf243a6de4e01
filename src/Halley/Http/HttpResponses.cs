using Microsoft.AspNetCore.Http;

namespace Halley.Http;

/// <summary>Plain HTTP answers shared by every endpoint that refuses a request before any Bayeux is exchanged.</summary>
internal static class HttpResponses
{
    /// <summary>Answers with <paramref name="status"/> and <paramref name="text"/> as a UTF-8 plain-text body.</summary>
    public static async Task WriteStatusAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Answers 503 with <c>Retry-After</c>: the engine's store cannot be reached now (see <see cref="Engine.EngineUnavailableException"/>).</summary>
    public static Task WriteUnavailableAsync(HttpContext context, Engine.EngineUnavailableException unavailable)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteStatusAsync(context, StatusCodes.Status503ServiceUnavailable, $"Halley's engine is unavailable, try again later: {unavailable.Message}");
    }
}
