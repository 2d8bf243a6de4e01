namespace Halley;

/// <summary>Which other origins' pages may connect, and get CORS headers on the Bayeux endpoint, <c>/sse</c> and <c>/stream</c>.</summary>
public sealed class CorsOptions
{
    /// <summary>
    /// Origins, e.g. <c>https://app.example.com</c>, whose pages may open Bayeux connections (every transport,
    /// WebSocket upgrades on both accept paths included), <c>/sse</c> and <c>/stream</c>, besides the server's own
    /// origin; <c>*</c> allows any. A request with another <c>Origin</c> is refused with 403; a request with no
    /// <c>Origin</c> (not a browser) is allowed. The listed origins also get CORS headers
    /// (<c>Access-Control-Allow-Origin</c> echoing the origin, with credentials), so their pages may read the
    /// responses. Empty (default): the server's own origin only.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
