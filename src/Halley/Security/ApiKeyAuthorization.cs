using System.Net;
using System.Security.Cryptography;
using System.Text;
using Halley.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// Guards the backend API: <c>Authorization: Bearer &lt;key&gt;</c> with <c>Halley:Api:Key</c> (every endpoint) or one
/// of <c>Halley:Api:Keys</c> whose scopes include the endpoint's; or, when no key is configured, loopback callers
/// only. A request that came through a proxy (it carries forwarding headers) is never treated as loopback, since the
/// proxy itself usually connects from 127.0.0.1.
/// </summary>
internal sealed class ApiKeyAuthorization(IOptions<HalleyOptions> options, HalleyMetrics? metrics = null)
{
    /// <summary>The scope of <c>POST /api/publish</c>.</summary>
    public const string PublishScope = "publish";

    /// <summary>The scope of <c>GET /api/history</c>.</summary>
    public const string HistoryScope = "history";

    /// <summary>The scope of <c>POST /api/disconnect</c>.</summary>
    public const string DisconnectScope = "disconnect";

    /// <summary>The scope of <c>GET /api/presence</c> and <c>GET /api/channels</c>.</summary>
    public const string PresenceScope = "presence";

    /// <summary>The scopes a key may name (<c>*</c> is every one).</summary>
    public static readonly string[] Scopes = [PublishScope, HistoryScope, DisconnectScope, PresenceScope, "*"];

    private readonly (byte[] Key, string[] Scopes)[] _keys = [.. KeysOf(options.Value.Api)];

    /// <summary>Whether any key is configured (else loopback callers are served).</summary>
    public bool HasKeys => _keys.Length > 0;

    /// <summary>Whether the caller may use the endpoint of <paramref name="scope"/>; if not, the refusal (401 or 403, with why) is already written.</summary>
    public async ValueTask<bool> AuthorizeAsync(HttpContext context, string scope)
    {
        var denied = Check(context, scope);
        if (denied == 0)
        {
            return true;
        }
        await RefuseAsync(context, denied).ConfigureAwait(false);
        return false;
    }

    /// <summary>Writes the refusal <see cref="Check"/> decided on (its status and why), and counts it.</summary>
    public Task RefuseAsync(HttpContext context, int status)
    {
        var (reason, text) = status switch
        {
            StatusCodes.Status401Unauthorized => ("invalid_key", "Missing or wrong bearer key (Halley:Api:Key or Halley:Api:Keys)."),
            _ when _keys.Length > 0 => ("missing_scope", "This key's scopes (Halley:Api:Keys) do not include this endpoint."),
            _ => ("not_loopback", "No Halley:Api:Key is configured, so the API answers loopback callers only."),
        };
        metrics?.AuthDenied("api", reason);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    /// <summary>Returns 0 when authorized for <paramref name="scope"/> (default: all of them), else the HTTP status to answer with.</summary>
    public int Check(HttpContext context, string scope = "*")
    {
        if (_keys.Length == 0)
        {
            var remote = context.Connection.RemoteIpAddress;
            var forwarded = context.Request.Headers.ContainsKey("X-Forwarded-For") || context.Request.Headers.ContainsKey("Forwarded");
            return remote is not null && IPAddress.IsLoopback(remote) && !forwarded ? 0 : StatusCodes.Status403Forbidden;
        }
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            var sent = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
            foreach (var (key, scopes) in _keys)
            {
                if (CryptographicOperations.FixedTimeEquals(sent, key))
                {
                    return scopes.Contains("*") || scopes.Contains(scope) ? 0 : StatusCodes.Status403Forbidden;
                }
            }
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return StatusCodes.Status401Unauthorized;
    }

    private static IEnumerable<(byte[], string[])> KeysOf(ApiOptions api)
    {
        if (!string.IsNullOrEmpty(api.Key))
        {
            yield return (Encoding.UTF8.GetBytes(api.Key), ["*"]);
        }
        foreach (var key in api.Keys)
        {
            yield return (Encoding.UTF8.GetBytes(key.Key), [.. key.Scopes]);
        }
    }
}
