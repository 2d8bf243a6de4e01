namespace Halley;

/// <summary>The CORS headers of the Bayeux endpoint, <c>/sse</c> and <c>/stream</c>.</summary>
public sealed class CorsOptions
{
    /// <summary>
    /// Origins, e.g. <c>https://app.example.com</c>, that get CORS headers (<c>Access-Control-Allow-Origin</c>
    /// echoing the origin, with credentials) on <c>/cometd</c>, <c>/sse</c> and <c>/stream</c>, so a browser page
    /// there may read the responses; <c>*</c> allows any. Empty (default): no CORS headers, so browsers keep
    /// other origins' pages from reading those responses.
    /// This is CORS only, not access control: the server refuses no request for its <c>Origin</c> today. A
    /// cross-origin request the browser sends without a preflight is still handled, a WebSocket upgrade is
    /// accepted whatever its <c>Origin</c>, and callback-polling (JSONP) is readable from any page.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
