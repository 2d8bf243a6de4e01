using System.Text;
using Halley.Diagnostics;
using Halley.Security.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Halley.Security;

/// <summary>
/// The one connection-authorization step every accept path calls: the Bayeux endpoint for each connection type,
/// the connection-level WebSocket accept (<c>UseHalleyWebSockets</c>), <c>/sse</c> and <c>/stream</c>. It asks the
/// <see cref="OriginPolicy"/> first (<c>Halley:Cors:AllowedOrigins</c>), then the registered
/// <see cref="IConnectionAuthorizer"/>s in order; a request without an <c>Origin</c> and with no authorizer registered
/// is allowed at once, without an allocation. Between the two, <see cref="ConnectionAuthentication"/> finds who the
/// client is (<see cref="ConnectionRequest.User"/>).
/// </summary>
internal sealed class ConnectionAuthorization(IEnumerable<IConnectionAuthorizer> authorizers, OriginPolicy origins, ConnectionAuthentication authentication, HalleyMetrics metrics)
{
    private static readonly ConnectionDecision OriginRefused = ConnectionDecision.Deny(OriginPolicy.RefusalReason);

    private readonly IConnectionAuthorizer[] _authorizers = [.. authorizers];

    /// <summary>
    /// Checks the origin, then authenticates, then asks every authorizer about <paramref name="request"/>; the first
    /// refusal wins and is counted (<c>halley.connections.refused</c>, tagged with the transport and <c>reason</c>:
    /// <c>origin</c>, <c>authentication</c> or <c>authorizer</c>).
    /// </summary>
    public async ValueTask<ConnectionDecision> AuthorizeAsync(ConnectionRequest request, CancellationToken cancellationToken)
    {
        if (!origins.Allows(request.Origin, request.IsHttps, request.Host))
        {
            metrics.ConnectionRefused(request.Transport, "origin");
            return OriginRefused;
        }
        if (authentication.MustAsk)
        {
            var authenticated = await authentication.AuthenticateAsync(request, cancellationToken).ConfigureAwait(false);
            if (!authenticated.IsAllowed)
            {
                metrics.ConnectionRefused(request.Transport, "authentication");
                return authenticated;
            }
        }
        foreach (var authorizer in _authorizers)
        {
            var decision = await authorizer.AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
            if (!decision.IsAllowed)
            {
                metrics.ConnectionRefused(request.Transport, "authorizer");
                return decision;
            }
        }
        return ConnectionDecision.Allow;
    }

    /// <summary>
    /// Whether a request carrying <paramref name="origin"/> must be asked about at all: it is refused by origin, or
    /// an authorizer is registered, or authentication is configured. False for the common case (no authorizer, no
    /// connection tokens, anonymous access, an allowed or no origin), which then costs nothing more.
    /// </summary>
    public bool MustAsk(string? origin, bool isHttps, string? host) =>
        _authorizers.Length > 0 || authentication.MustAsk || !origins.Allows(origin, isHttps, host);

    /// <inheritdoc cref="MustAsk(string?, bool, string?)"/>
    public bool MustAsk(HttpRequest request) =>
        MustAsk(ConnectionRequest.OriginOf(request), request.IsHttps, ConnectionRequest.HostOf(request));

    /// <summary>
    /// Authorizes an HTTP request for <paramref name="transport"/>; a refusal is answered here (its status and a
    /// plain-text reason) and false returned, so the caller just stops.
    /// </summary>
    public async ValueTask<bool> TryAuthorizeAsync(HttpContext context, string transport)
    {
        if (!MustAsk(context.Request))
        {
            return true;
        }
        var decision = await AuthorizeAsync(ConnectionRequest.FromHttp(context, transport), context.RequestAborted).ConfigureAwait(false);
        if (decision.IsAllowed)
        {
            return true;
        }
        context.Response.StatusCode = decision.StatusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(decision.Reason ?? "Connection refused.", context.RequestAborted).ConfigureAwait(false);
        return false;
    }

    /// <summary>The raw HTTP/1.1 response that refuses a WebSocket upgrade taken below the HTTP layer.</summary>
    public static byte[] RawRefusal(ConnectionDecision decision)
    {
        var body = Encoding.UTF8.GetBytes(decision.Reason ?? "Connection refused.");
        var head = $"HTTP/1.1 {decision.StatusCode} {ReasonPhrases.GetReasonPhrase(decision.StatusCode)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }
}
