using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>Mints connection and subscription tokens as a backend would, and counts the server's denials.</summary>
public static class AuthTokens
{
    /// <summary>The HS256 secret the servers of these tests are configured with.</summary>
    public const string Secret = "a-test-secret-of-at-least-32-bytes-long!";

    /// <summary>Configuration keys that make a server accept HS256 tokens signed with <see cref="Secret"/>.</summary>
    public static readonly string[] Hs256Settings = ["Halley:Auth:Jwt:Keys:0:Secret=" + Secret, "Halley:Auth:Jwt:ClockSkew=00:00:00"];

    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>An HS256 token for <paramref name="subject"/>, valid for <paramref name="lifetime"/> (1 hour by default).</summary>
    public static string Hs256(string subject, TimeSpan? lifetime = null, IDictionary<string, object>? claims = null, string secret = Secret) =>
        Mint(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256), subject, lifetime, claims);

    /// <summary>A token for <paramref name="subject"/> signed with <paramref name="credentials"/>.</summary>
    public static string Mint(SigningCredentials credentials, string subject, TimeSpan? lifetime = null, IDictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        var all = new Dictionary<string, object>(claims ?? new Dictionary<string, object>()) { ["sub"] = subject };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = all,
            // A token minted already expired still needs nbf/iat before its exp.
            NotBefore = expires < now ? expires.AddMinutes(-5) : now.AddSeconds(-1),
            IssuedAt = expires < now ? expires.AddMinutes(-5) : now,
            Expires = expires,
            SigningCredentials = credentials,
        });
    }

    /// <summary>The public half of <paramref name="key"/> in PEM, as <c>Halley:Auth:Jwt:Keys:n:PublicKey</c> takes it.</summary>
    public static string PublicPem(AsymmetricAlgorithm key) => key.ExportSubjectPublicKeyInfoPem();

    /// <summary>Counts <c>halley.auth.denied</c> of <paramref name="server"/> only, as (operation, reason).</summary>
    public static MeterListener CountDenials(TestServer server, ConcurrentQueue<(string Operation, string Reason)> denials) =>
        CounterTags.Record(server, "halley.auth.denied", "operation", "reason", denials);

    /// <summary>An <c>ext</c> carrying <paramref name="token"/> as <c>ext.auth.token</c>.</summary>
    public static System.Text.Json.Nodes.JsonObject Ext(string token) => new() { ["auth"] = new System.Text.Json.Nodes.JsonObject { ["token"] = token } };
}
