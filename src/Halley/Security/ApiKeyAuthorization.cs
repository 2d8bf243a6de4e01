using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// Guards the backend API: <c>Authorization: Bearer &lt;Halley:Api:Key&gt;</c>, or, when no key is configured,
/// loopback callers only. A request that came through a proxy (it carries forwarding headers) is never treated
/// as loopback, since the proxy itself usually connects from 127.0.0.1.
/// </summary>
internal sealed class ApiKeyAuthorization(IOptions<HalleyOptions> options)
{
    private readonly byte[]? _key = string.IsNullOrEmpty(options.Value.Api.Key) ? null : Encoding.UTF8.GetBytes(options.Value.Api.Key);

    /// <summary>Whether the caller may use the API; if not, the refusal (401 or 403, with why) is already written.</summary>
    public async ValueTask<bool> AuthorizeAsync(HttpContext context)
    {
        var denied = Check(context);
        if (denied == 0)
        {
            return true;
        }
        context.Response.StatusCode = denied;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(denied == StatusCodes.Status401Unauthorized
            ? "Missing or wrong bearer key (Halley:Api:Key)."
            : "No Halley:Api:Key is configured, so the API answers loopback callers only.", context.RequestAborted).ConfigureAwait(false);
        return false;
    }

    /// <summary>Returns 0 when authorized, else the HTTP status to answer with.</summary>
    public int Check(HttpContext context)
    {
        if (_key is null)
        {
            var remote = context.Connection.RemoteIpAddress;
            var forwarded = context.Request.Headers.ContainsKey("X-Forwarded-For") || context.Request.Headers.ContainsKey("Forwarded");
            return remote is not null && IPAddress.IsLoopback(remote) && !forwarded ? 0 : StatusCodes.Status403Forbidden;
        }
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _key))
        {
            return 0;
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return StatusCodes.Status401Unauthorized;
    }
}
