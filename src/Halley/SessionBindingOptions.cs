namespace Halley;

/// <summary>How a session is tied to the client that created it, so a leaked client id cannot be used by someone else.</summary>
public sealed class SessionBindingOptions
{
    /// <summary>
    /// Require HTTP requests of a session to carry the browser cookie set at its handshake. Default true.
    /// Turn off only for clients that cannot keep cookies.
    /// </summary>
    public bool RequireBrowserCookie { get; set; } = true;

    /// <summary>The cookie's name. Default <c>BAYEUX_BROWSER</c>, as CometD names it.</summary>
    public string BrowserCookieName { get; set; } = "BAYEUX_BROWSER";

    /// <summary>The cookie's SameSite mode: <c>Lax</c> (default), <c>Strict</c> or <c>None</c> (cross-site; needs HTTPS).</summary>
    public Microsoft.AspNetCore.Http.SameSiteMode BrowserCookieSameSite { get; set; } = Microsoft.AspNetCore.Http.SameSiteMode.Lax;
}
