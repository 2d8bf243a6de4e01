using Halley.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security.Auth;

/// <summary>
/// Finds who opens a connection, as part of <see cref="ConnectionAuthorization"/> on every accept path: the host's
/// authenticated <c>HttpContext.User</c> first, else a connection token (<c>Authorization: Bearer</c>,
/// <c>?access_token=</c>, or the <c>Halley:Auth:Jwt:Cookie</c> cookie). A token that is present but bad refuses the
/// connection with 401; a missing one does not, since a Bayeux handshake may still carry <c>ext.auth.token</c>, but
/// <c>/sse</c> and <c>/stream</c>, which have no handshake, are refused without one when anonymous access is off.
/// </summary>
internal sealed class ConnectionAuthentication(TokenValidator tokens, IOptions<HalleyOptions> options, HalleyMetrics metrics)
{
    /// <summary>The query parameter carrying a token where a browser cannot set headers (WebSocket, EventSource).</summary>
    public const string QueryParameter = "access_token";

    /// <summary>The reason a stream without an identity is refused when anonymous access is off.</summary>
    public const string Required = "authentication_required";

    private readonly AuthOptions _auth = options.Value.Auth;

    /// <summary>Whether a connection must be looked at at all: tokens are accepted, or anonymous access is off.</summary>
    public bool MustAsk => tokens.IsEnabled || !_auth.AllowAnonymous;

    /// <summary>Sets <see cref="ConnectionRequest.User"/> (and <c>HttpContext.User</c> on HTTP paths), or refuses.</summary>
    public async ValueTask<ConnectionDecision> AuthenticateAsync(ConnectionRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext?.User is { } hostUser && HalleyIdentity.IsAuthenticated(hostUser))
        {
            request.User = hostUser;
        }
        else if (tokens.IsEnabled && TokenOf(request) is { } token)
        {
            var check = await tokens.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
            if (check.User is null)
            {
                metrics.AuthDenied("connect", check.Reason!);
                return ConnectionDecision.Deny(check.Reason!, StatusCodes.Status401Unauthorized);
            }
            request.User = check.User;
            if (request.HttpContext is { } context)
            {
                context.User = check.User;
            }
        }
        if (request.User is null && !_auth.AllowAnonymous && request.Transport is "sse" or "stream")
        {
            metrics.AuthDenied("connect", Required);
            return ConnectionDecision.Deny(Required, StatusCodes.Status401Unauthorized);
        }
        return ConnectionDecision.Allow;
    }

    /// <summary>
    /// Who an HTTP request outside the connection paths is (a client reading <c>/api/history</c>): the host's
    /// authenticated user, else its valid connection token. A token present but bad gives the reason instead.
    /// </summary>
    public async ValueTask<(System.Security.Claims.ClaimsPrincipal? User, string? Refused)> AuthenticateHttpAsync(HttpContext context)
    {
        if (HalleyIdentity.IsAuthenticated(context.User))
        {
            return (context.User, null);
        }
        if (!tokens.IsEnabled || TokenOf(context.Request) is not { } token)
        {
            return (null, null);
        }
        var check = await tokens.ValidateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (check.User is null)
        {
            metrics.AuthDenied("history", check.Reason!);
        }
        return (check.User, check.Reason);
    }

    /// <summary>The connection token a request carries, by the first of the places it may be in; null if none.</summary>
    public string? TokenOf(ConnectionRequest request)
    {
        if (request.HttpContext is { } context)
        {
            return TokenOf(context.Request);
        }
        return BearerOf(request.Authorization) ?? NonEmpty(request.AccessToken) ?? CookieToken(request.GetCookie);
    }

    /// <summary>The connection token an HTTP request carries; null if none.</summary>
    public string? TokenOf(HttpRequest request) =>
        BearerOf(request.Headers.Authorization.Count == 1 ? request.Headers.Authorization[0] : null)
        ?? NonEmpty(request.Query[QueryParameter].Count == 1 ? request.Query[QueryParameter][0] : null)
        ?? CookieToken(name => request.Cookies.TryGetValue(name, out var value) ? value : null);

    private string? CookieToken(Func<string, string?> cookie) => _auth.Jwt.Cookie is { Length: > 0 } name ? NonEmpty(cookie(name)) : null;

    private static string? BearerOf(string? header)
    {
        const string scheme = "Bearer ";
        return header is not null && header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? NonEmpty(header[scheme.Length..].Trim()) : null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
