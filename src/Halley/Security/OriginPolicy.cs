using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// Which browser origins may open a connection or a stream (<c>Halley:Cors:AllowedOrigins</c>), asked by
/// <see cref="ConnectionAuthorization"/> on every accept path before any authorizer. Allowed are: a request with no
/// <c>Origin</c> (not a browser: the .NET client, Node clients, curl; the origin check protects browsers' users only),
/// the server's own origin, the listed origins, and any origin when the list holds <c>*</c>.
/// </summary>
/// <remarks>
/// The server's own origin is the one the browser used to reach it: the request's scheme and its <c>Host</c> header
/// (a browser cannot forge either on a cross-site request). Default ports are left out on both sides, and an
/// <c>https</c> page of the same host is own too when the request came over plain HTTP (TLS ended at a proxy in
/// front); the other way round (an <c>http</c> page reaching an <c>https</c> server) is not. A proxy that rewrites
/// <c>Host</c> hides the public origin: list it.
/// </remarks>
internal sealed class OriginPolicy
{
    /// <summary>The reason a refused request is answered with.</summary>
    public const string RefusalReason = "Origin not allowed: this server accepts browser requests only from its own origin and those in Halley:Cors:AllowedOrigins.";

    private readonly bool _allowAny;
    private readonly (string Scheme, string Host, int Port)[] _allowed;

    public OriginPolicy(IOptions<HalleyOptions> options)
    {
        var origins = options.Value.Cors.AllowedOrigins;
        _allowAny = origins.Contains("*");
        _allowed = [.. origins.Select(static o => TryParse(o, out var parsed) ? parsed : default).Where(static o => o.Scheme is not null)];
    }

    /// <summary>Whether a request with <paramref name="origin"/> (its <c>Origin</c> header, null without one) may go on.</summary>
    /// <param name="origin">The <c>Origin</c> header.</param>
    /// <param name="isHttps">Whether the request came over TLS.</param>
    /// <param name="host">The request's <c>Host</c> header.</param>
    public bool Allows(string? origin, bool isHttps, string? host)
    {
        if (origin is null || _allowAny)
        {
            return true;
        }
        // The common case, a page of the server itself, without an allocation: "scheme://" + Host, as browsers send it.
        if (!string.IsNullOrEmpty(host) && ((!isHttps && IsSchemeAndHost(origin, "http://", host)) || IsSchemeAndHost(origin, "https://", host)))
        {
            return true;
        }
        if (!TryParse(origin, out var parsed))
        {
            // "null" (a sandboxed or file: page), two Origin headers joined, or garbage: not ours, not listed.
            return false;
        }
        return IsOwn(parsed, isHttps, host) || Array.IndexOf(_allowed, parsed) >= 0;
    }

    /// <summary>Whether a listed origin (or <c>*</c>) is well-formed: <c>http(s)://host[:port]</c>, nothing after.</summary>
    public static bool IsValidListEntry(string? entry) => entry == "*" || TryParse(entry, out _);

    private static bool IsSchemeAndHost(string origin, string scheme, string host) =>
        origin.Length == scheme.Length + host.Length
        && origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
        && origin.AsSpan(scheme.Length).Equals(host, StringComparison.OrdinalIgnoreCase);

    private static bool IsOwn((string Scheme, string Host, int Port) origin, bool isHttps, string? host)
    {
        if (string.IsNullOrEmpty(host) || (isHttps && origin.Scheme != Uri.UriSchemeHttps))
        {
            return false;
        }
        var requestHost = new HostString(host);
        return string.Equals(requestHost.Host, origin.Host, StringComparison.OrdinalIgnoreCase)
            && (requestHost.Port ?? DefaultPort(origin.Scheme)) == origin.Port;
    }

    private static bool TryParse(string? value, out (string Scheme, string Host, int Port) origin)
    {
        origin = default;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0
            || value!.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }
        origin = (uri.Scheme, uri.Host.ToLowerInvariant(), uri.Port);
        return true;
    }

    private static int DefaultPort(string scheme) => scheme == Uri.UriSchemeHttps ? 443 : 80;
}
