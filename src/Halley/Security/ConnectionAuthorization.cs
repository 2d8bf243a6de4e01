using System.Text;
using Halley.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Halley.Security;

/// <summary>
/// The one connection-authorization step every accept path calls: the Bayeux endpoint for each connection type,
/// the connection-level WebSocket accept (<c>UseHalleyWebSockets</c>), <c>/sse</c> and <c>/stream</c>. It asks the
/// registered <see cref="IConnectionAuthorizer"/>s in order; with none registered it allows at once, without an
/// allocation. This is where origin checks and authentication go (issue 13).
/// </summary>
internal sealed class ConnectionAuthorization(IEnumerable<IConnectionAuthorizer> authorizers, HalleyMetrics metrics)
{
    private readonly IConnectionAuthorizer[] _authorizers = [.. authorizers];

    /// <summary>Whether any authorizer is registered; when none is, every request is allowed.</summary>
    public bool IsEnabled => _authorizers.Length > 0;

    /// <summary>Asks every authorizer about <paramref name="request"/>; the first refusal wins.</summary>
    public async ValueTask<ConnectionDecision> AuthorizeAsync(ConnectionRequest request, CancellationToken cancellationToken)
    {
        foreach (var authorizer in _authorizers)
        {
            var decision = await authorizer.AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
            if (!decision.IsAllowed)
            {
                metrics.ConnectionRefused(request.Transport);
                return decision;
            }
        }
        return ConnectionDecision.Allow;
    }

    /// <summary>
    /// Authorizes an HTTP request for <paramref name="transport"/>; a refusal is answered here (its status and a
    /// plain-text reason) and false returned, so the caller just stops.
    /// </summary>
    public async ValueTask<bool> TryAuthorizeAsync(HttpContext context, string transport)
    {
        if (_authorizers.Length == 0)
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
