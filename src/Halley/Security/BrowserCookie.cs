using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// The HttpOnly cookie that ties a session to the browser that created it, as CometD's <c>BAYEUX_BROWSER</c>
/// does: a leaked client id alone cannot be used from another browser.
/// </summary>
internal sealed class BrowserCookie(IOptions<HalleyOptions> options)
{
    private readonly SessionBindingOptions _options = options.Value.SessionBinding;

    /// <summary>The cookie's name.</summary>
    public string Name => _options.BrowserCookieName;

    /// <summary>The browser id the request carries, if any (and if well-formed).</summary>
    public string? Read(HttpRequest request) =>
        request.Cookies.TryGetValue(_options.BrowserCookieName, out var value) ? Validate(value) : null;

    /// <summary>Returns <paramref name="value"/> when it is a well-formed browser id, else null.</summary>
    public string? Validate(string? value) => IsWellFormed(value) ? value : null;

    /// <summary>Returns the request's browser id, issuing a new cookie on the response when it has none.</summary>
    public string ReadOrIssue(HttpContext context)
    {
        if (Read(context.Request) is { } existing)
        {
            return existing;
        }
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var id = Convert.ToHexStringLower(bytes);
        context.Response.Cookies.Append(_options.BrowserCookieName, id, new CookieOptions
        {
            HttpOnly = true,
            Path = "/",
            SameSite = _options.BrowserCookieSameSite,
            Secure = context.Request.IsHttps || _options.BrowserCookieSameSite == SameSiteMode.None,
        });
        return id;
    }

    private static bool IsWellFormed(string? value) => value is { Length: 32 } && value.All(char.IsAsciiHexDigitLower);
}
