using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Halley.Security.Auth;

/// <summary>What <see cref="TokenValidator"/> found: the token's identity, or why it is refused.</summary>
/// <param name="User">The identity the token's claims make; null when refused.</param>
/// <param name="Reason">Why the token is refused (<c>token_expired</c>, <c>invalid_token</c>); null when valid.</param>
internal readonly record struct TokenCheck(ClaimsPrincipal? User, string? Reason);

/// <summary>
/// Validates JSON Web Tokens (connection and subscription tokens) with <c>Microsoft.IdentityModel.JsonWebTokens</c>:
/// HS256, RS256 or ES256, signed by a configured key or one of the JWKS URL's; issuer, audience, expiry and not-before
/// as <c>Halley:Auth:Jwt</c> says.
/// </summary>
internal sealed class TokenValidator : IDisposable
{
    /// <summary>The reason a token past its <c>exp</c> is refused with.</summary>
    public const string Expired = "token_expired";

    /// <summary>The reason any other bad token is refused with (the details go to no client).</summary>
    public const string Invalid = "invalid_token";

    private static readonly string[] Algorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    private readonly JsonWebTokenHandler _handler = new();
    private readonly JwtOptions _options;
    private readonly SecurityKey[] _configured;
    private readonly JwksKeys? _jwks;

    public TokenValidator(IOptions<HalleyOptions> options, TimeProvider time, ILogger<TokenValidator> logger)
    {
        _options = options.Value.Auth.Jwt;
        _configured = [.. _options.Keys.Select(SigningKeys.Create)];
        _jwks = _options.JwksUrl is { } url ? new JwksKeys(url, _options, time, logger) : null;
    }

    /// <summary>Whether tokens are accepted at all (a key or a JWKS URL is configured).</summary>
    public bool IsEnabled => _options.IsEnabled;

    /// <summary>Validates <paramref name="token"/>; never throws for a bad token.</summary>
    public async ValueTask<TokenCheck> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return new(null, Invalid);
        }
        var result = await ValidateWithAsync(token, _jwks is null ? _configured : [.. _configured, .. await _jwks.GetAsync(cancellationToken).ConfigureAwait(false)]).ConfigureAwait(false);
        if (!result.IsValid && _jwks is not null
            && result.Exception is SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
            && await _jwks.RefreshForUnknownKeyAsync(cancellationToken).ConfigureAwait(false))
        {
            result = await ValidateWithAsync(token, [.. _configured, .. await _jwks.GetAsync(cancellationToken).ConfigureAwait(false)]).ConfigureAwait(false);
        }
        if (result.IsValid)
        {
            return new(new ClaimsPrincipal(result.ClaimsIdentity), null);
        }
        return new(null, result.Exception is SecurityTokenExpiredException ? Expired : Invalid);
    }

    private Task<TokenValidationResult> ValidateWithAsync(string token, IEnumerable<SecurityKey> keys) =>
        _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidateIssuer = _options.Issuer is not null,
            ValidAudience = _options.Audience,
            ValidateAudience = _options.Audience is not null,
            ClockSkew = _options.ClockSkew,
            IssuerSigningKeys = keys,
            ValidAlgorithms = Algorithms,
            // Tokens without exp are the backend's choice (as Centrifugo allows); with one, it is enforced.
            RequireExpirationTime = false,
            NameClaimType = HalleyIdentity.SubjectClaim,
            RoleClaimType = "role",
        });

    public void Dispose() => _jwks?.Dispose();
}
