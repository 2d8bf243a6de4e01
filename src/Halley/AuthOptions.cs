namespace Halley;

/// <summary>
/// Who clients are and what they may do (<c>Halley:Auth</c>): connection tokens (JWT), anonymous access, and the
/// per-channel rules for subscribing and publishing. docs/security.md describes each setting.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>
    /// Whether a client without an identity (no valid token, no authenticated <c>HttpContext.User</c>) may handshake
    /// and open <c>/sse</c> or <c>/stream</c>. Default true, so an unconfigured server keeps working; turn it off in
    /// production (docs/security.md has the example).
    /// </summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>
    /// How long before its token expires a session is told to refresh it (<c>ext.auth.refresh</c> on its connect
    /// replies). Default 1 minute.
    /// </summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Connection and subscription tokens: JSON Web Tokens, and the keys that sign them.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>
    /// Who may subscribe and publish where, one rule per channel pattern, in order: for a channel, the first rule
    /// whose pattern matches it decides; a channel no rule matches is open to every client.
    /// </summary>
    public List<ChannelRule> Channels { get; set; } = [];
}

/// <summary>Validation of JSON Web Tokens (<c>Halley:Auth:Jwt</c>). Tokens are accepted only when a key or a JWKS URL is set.</summary>
public sealed class JwtOptions
{
    /// <summary>The <c>iss</c> every token must carry; unset: not checked.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> every token must carry; unset: not checked.</summary>
    public string? Audience { get; set; }

    /// <summary>Keys tokens may be signed with: HMAC secrets (HS256) and RSA or EC public keys in PEM (RS256, ES256).</summary>
    public List<JwtKey> Keys { get; set; } = [];

    /// <summary>
    /// A JSON Web Key Set to take the signing keys from (e.g. an identity provider's <c>jwks_uri</c>); fetched when
    /// first needed, again every <see cref="JwksRefreshInterval"/>, and at once when a token names a key it lacks
    /// (a rotation), at most once per <see cref="JwksMinRefreshInterval"/>.
    /// </summary>
    public Uri? JwksUrl { get; set; }

    /// <summary>How often the key set at <see cref="JwksUrl"/> is fetched again. Default 1 hour.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The fewest time between two fetches caused by unknown keys, so bad tokens cannot hammer the provider. Default 30 s.</summary>
    public TimeSpan JwksMinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tolerance for clocks that differ, applied to <c>exp</c> and <c>nbf</c>. Default 30 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A cookie to read the connection token from, for browsers that cannot set headers; unset: none.</summary>
    public string? Cookie { get; set; }

    /// <summary>Whether tokens can be validated at all: a key or a JWKS URL is configured.</summary>
    public bool IsEnabled => Keys.Count > 0 || JwksUrl is not null;
}

/// <summary>One key tokens may be signed with. Set <see cref="Secret"/> or <see cref="PublicKey"/>, not both.</summary>
public sealed class JwtKey
{
    /// <summary>The key id (<c>kid</c>) tokens name it by; unset: the key is tried for any token.</summary>
    public string? Id { get; set; }

    /// <summary>An HMAC secret for HS256, as text (its UTF-8 bytes are the key): at least 32 bytes.</summary>
    public string? Secret { get; set; }

    /// <summary>An RSA (RS256) or EC P-256 (ES256) public key in PEM (<c>-----BEGIN PUBLIC KEY-----</c>…).</summary>
    public string? PublicKey { get; set; }
}

/// <summary>
/// Who may subscribe to and publish on the channels <see cref="Pattern"/> matches. Each of <see cref="Subscribe"/>
/// and <see cref="Publish"/> is one of: <c>anonymous</c> (every client; the default), <c>authenticated</c>,
/// <c>role:NAME</c>, <c>claim:TYPE</c> or <c>claim:TYPE=VALUE</c>, <c>token</c> (a subscription token signed by the
/// backend for that channel) or <c>nobody</c> (server-only: the backend API and <see cref="IHalleyPublisher"/> still
/// publish).
/// </summary>
public sealed class ChannelRule
{
    /// <summary>
    /// A channel name or pattern (<c>/chat/*</c>, <c>/ticker/**</c>); a segment <c>{sub}</c> matches only the
    /// client's own subject (the token's <c>sub</c>), as in <c>/user/{sub}/**</c>.
    /// </summary>
    public string Pattern { get; set; } = "";

    /// <summary>Who may subscribe (and read history, resume, open streams); default <c>anonymous</c>.</summary>
    public string Subscribe { get; set; } = "anonymous";

    /// <summary>Who may publish from a client; default <c>anonymous</c>.</summary>
    public string Publish { get; set; } = "anonymous";
}
