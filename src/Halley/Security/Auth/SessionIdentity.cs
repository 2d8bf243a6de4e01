using System.Security.Claims;

namespace Halley.Security.Auth;

/// <summary>Who a Bayeux session belongs to, and when that identity's token expires; replaced whole on a refresh.</summary>
/// <param name="User">The identity; null when anonymous.</param>
/// <param name="ExpiresAt">The registry timestamp its token expires at (with the clock skew); <see cref="long.MaxValue"/>: never.</param>
internal sealed record SessionIdentity(ClaimsPrincipal? User, long ExpiresAt)
{
    /// <summary>An anonymous session, which never expires for want of a token.</summary>
    public static SessionIdentity Anonymous { get; } = new(null, long.MaxValue);

    /// <summary>The subject (<c>sub</c>); null when anonymous or the identity has none.</summary>
    public string? Subject => HalleyIdentity.SubjectOf(User);
}
