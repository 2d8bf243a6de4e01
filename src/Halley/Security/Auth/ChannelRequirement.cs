using System.Security.Claims;

namespace Halley.Security.Auth;

/// <summary>One side (subscribe or publish) of a <see cref="ChannelRule"/>: who is allowed, parsed from its text.</summary>
internal sealed record ChannelRequirement(ChannelRequirement.Kind Who, string? Name = null, string? Value = null)
{
    /// <summary>Who a requirement lets in.</summary>
    public enum Kind
    {
        Anyone,
        Authenticated,
        Role,
        Claim,
        Token,
        Nobody,
    }

    /// <summary>The reason a client without an identity is refused.</summary>
    public const string AuthenticationRequired = "authentication_required";

    /// <summary>The accepted forms, in words, for error messages.</summary>
    public const string Forms = "anonymous, authenticated, role:NAME, claim:TYPE, claim:TYPE=VALUE, token or nobody";

    /// <summary>Parses <paramref name="text"/>; null when it is none of <see cref="Forms"/>.</summary>
    public static ChannelRequirement? Parse(string? text)
    {
        var value = text?.Trim() ?? "";
        if (value.Length == 0 || value.Equals("anonymous", StringComparison.OrdinalIgnoreCase))
        {
            return new(Kind.Anyone);
        }
        if (value.Equals("authenticated", StringComparison.OrdinalIgnoreCase))
        {
            return new(Kind.Authenticated);
        }
        if (value.Equals("token", StringComparison.OrdinalIgnoreCase))
        {
            return new(Kind.Token);
        }
        if (value.Equals("nobody", StringComparison.OrdinalIgnoreCase))
        {
            return new(Kind.Nobody);
        }
        if (value.StartsWith("role:", StringComparison.OrdinalIgnoreCase) && value.Length > 5)
        {
            return new(Kind.Role, value[5..]);
        }
        if (value.StartsWith("claim:", StringComparison.OrdinalIgnoreCase) && value.Length > 6)
        {
            var claim = value[6..];
            var equals = claim.IndexOf('=');
            return equals switch
            {
                < 0 => new(Kind.Claim, claim),
                0 => null,
                _ => new(Kind.Claim, claim[..equals], claim[(equals + 1)..]),
            };
        }
        return null;
    }

    /// <summary>
    /// Whether <paramref name="user"/> meets the requirement, not counting a subscription token (the caller checks
    /// one for <see cref="Kind.Token"/>); null when it does, else the reason.
    /// </summary>
    public string? Check(ClaimsPrincipal? user)
    {
        switch (Who)
        {
            case Kind.Anyone:
            case Kind.Token:
                return null;
            case Kind.Nobody:
                return "server_only";
        }
        if (!HalleyIdentity.IsAuthenticated(user))
        {
            return AuthenticationRequired;
        }
        return Who switch
        {
            Kind.Role when !HalleyIdentity.HasRole(user!, Name!) => "role_required",
            Kind.Claim when !HasClaim(user!) => "claim_required",
            _ => null,
        };
    }

    private bool HasClaim(ClaimsPrincipal user) => Value is null ? user.HasClaim(c => c.Type == Name) : user.HasClaim(Name!, Value);
}
