using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Halley.Security;

/// <summary>
/// A request to open a Bayeux connection or a stream, as <see cref="IConnectionAuthorizer"/>s see it: the same on
/// every accept path, including WebSocket upgrades taken at Kestrel's connection level, which have no
/// <see cref="Microsoft.AspNetCore.Http.HttpContext"/>.
/// </summary>
public sealed class ConnectionRequest
{
    private readonly Func<string, string?> _cookie;

    internal ConnectionRequest(string transport, string path, string? origin, string? host, bool isHttps, IPAddress? remoteAddress, HttpContext? httpContext, Func<string, string?> cookie)
    {
        Transport = transport;
        Path = path;
        Origin = origin;
        Host = host;
        IsHttps = isHttps;
        RemoteAddress = remoteAddress;
        HttpContext = httpContext;
        _cookie = cookie;
    }

    /// <summary>
    /// What the client opens: a Bayeux connection type (<c>websocket</c>, <c>long-polling</c>,
    /// <c>cross-origin-long-polling</c>, <c>callback-polling</c>, <c>eventsource</c>) or a stream (<c>sse</c>,
    /// <c>stream</c>).
    /// </summary>
    public string Transport { get; }

    /// <summary>The request path, e.g. <c>/cometd</c> or <c>/sse</c>.</summary>
    public string Path { get; }

    /// <summary>The request's <c>Origin</c> header; null when it has none (a non-browser client).</summary>
    public string? Origin { get; }

    /// <summary>The request's <c>Host</c> header (with its port, if it has one); null when it has none.</summary>
    public string? Host { get; }

    /// <summary>Whether the request came over TLS to this server (not to a proxy in front of it).</summary>
    public bool IsHttps { get; }

    /// <summary>The client's address as the server sees it (a proxy's, behind one).</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>
    /// The request's context on HTTP paths (its <c>User</c>, headers, query); null for a WebSocket upgrade accepted
    /// at Kestrel's connection level (<c>UseHalleyWebSockets</c>), which never reaches the HTTP pipeline.
    /// </summary>
    public HttpContext? HttpContext { get; }

    /// <summary>
    /// Who opens the connection: the host's authenticated <c>HttpContext.User</c>, or the identity a valid
    /// connection token (<c>Halley:Auth:Jwt</c>) gave; null when anonymous. Set before any authorizer is asked.
    /// </summary>
    public ClaimsPrincipal? User { get; internal set; }

    /// <summary>The <c>Authorization</c> header of a connection-level WebSocket upgrade (HTTP paths read their context).</summary>
    internal string? Authorization { get; init; }

    /// <summary>The <c>access_token</c> query parameter of a connection-level WebSocket upgrade.</summary>
    internal string? AccessToken { get; init; }

    /// <summary>The value of cookie <paramref name="name"/>, if the request carried it; available on every path.</summary>
    public string? GetCookie(string name) => _cookie(name);

    internal static ConnectionRequest FromHttp(HttpContext context, string transport) =>
        new(transport, context.Request.Path.Value ?? "", OriginOf(context.Request), HostOf(context.Request),
            context.Request.IsHttps, context.Connection.RemoteIpAddress, context, name => context.Request.Cookies.TryGetValue(name, out var value) ? value : null);

    /// <summary>The request's <c>Origin</c> header; several are joined with commas (and so match no origin).</summary>
    internal static string? OriginOf(HttpRequest request) => request.Headers.Origin.Count > 0 ? request.Headers.Origin.ToString() : null;

    /// <summary>The request's <c>Host</c> header, null when it has none.</summary>
    internal static string? HostOf(HttpRequest request) => request.Host.HasValue ? request.Host.Value : null;
}
