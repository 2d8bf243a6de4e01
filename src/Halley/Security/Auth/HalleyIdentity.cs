using System.Globalization;
using System.Security.Claims;

namespace Halley.Security.Auth;

/// <summary>What Halley reads from a client's identity, whether a token made it or the host's authentication did.</summary>
internal static class HalleyIdentity
{
    /// <summary>The claim naming the subject in a JSON Web Token.</summary>
    public const string SubjectClaim = "sub";

    /// <summary>Whether <paramref name="user"/> is someone (not null, not anonymous).</summary>
    public static bool IsAuthenticated(ClaimsPrincipal? user) => user?.Identity?.IsAuthenticated == true;

    /// <summary>The subject: the <c>sub</c> claim, or the name identifier a host's authentication maps it to.</summary>
    public static string? SubjectOf(ClaimsPrincipal? user) =>
        user is null ? null : (user.FindFirst(SubjectClaim) ?? user.FindFirst(ClaimTypes.NameIdentifier))?.Value;

    /// <summary>When the identity's token expires (its <c>exp</c> claim); null when it never does.</summary>
    public static DateTimeOffset? ExpiresAt(ClaimsPrincipal? user) =>
        user?.FindFirst("exp")?.Value is { } exp && long.TryParse(exp, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>Whether <paramref name="user"/> has role <paramref name="role"/>: a <c>role</c> or <c>roles</c> claim, or the host's role claim.</summary>
    public static bool HasRole(ClaimsPrincipal user, string role) =>
        user.IsInRole(role) || user.HasClaim("role", role) || user.HasClaim("roles", role) || user.HasClaim(ClaimTypes.Role, role);
}
