using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Diagnostics;
using Halley.Protocol;
using Halley.Sessions;
using Microsoft.Extensions.Options;

namespace Halley.Security.Auth;

/// <summary>
/// Authentication of Bayeux sessions: who a handshake is (its <c>ext.auth.token</c>, else its connection's identity,
/// else anonymous if that is allowed), and keeping that identity valid for the session's life: a message may carry a
/// fresh token in <c>ext.auth.token</c>, connect replies say <c>ext.auth.refresh</c> when the token is about to
/// expire, and a session whose token expired is ended with <c>403::token_expired</c>.
/// </summary>
internal sealed class SessionAuthentication(TokenValidator tokens, SessionRegistry sessions, IOptions<HalleyOptions> options, HalleyMetrics metrics, TimeProvider time)
{
    /// <summary>The extension field holding tokens: <c>ext.auth</c>.</summary>
    public const string ExtName = "auth";

    private readonly AuthOptions _auth = options.Value.Auth;
    private readonly long _refreshBeforeTicks = sessions.ToTicks(options.Value.Auth.RefreshBefore);

    /// <summary>Who a handshake is; a non-null error refuses it (a Bayeux error string).</summary>
    public async ValueTask<(SessionIdentity? Identity, string? Error)> HandshakeAsync(BayeuxMessage message, TransportContext context, CancellationToken cancellationToken)
    {
        ClaimsPrincipal? user;
        switch (TokenIn(message, out var token))
        {
            case TokenPresence.Malformed:
                return (null, Deny("handshake", "invalid_token"));
            case TokenPresence.Present:
                var check = await tokens.ValidateAsync(token!, cancellationToken).ConfigureAwait(false);
                if (check.User is null)
                {
                    return (null, Deny("handshake", check.Reason!));
                }
                user = check.User;
                break;
            default:
                user = context.User;
                break;
        }
        if (user is null && !_auth.AllowAnonymous)
        {
            return (null, Deny("handshake", ConnectionAuthentication.Required));
        }
        return (IdentityOf(user), null);
    }

    /// <summary>
    /// Checks a message of an established session: takes a fresh token it carries, and ends the session when its
    /// token expired. A non-null error is the message's reply; Terminate says the session must end.
    /// </summary>
    public async ValueTask<(string? Error, bool Terminate)> CheckAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        var presence = TokenIn(message, out var token);
        if (presence == TokenPresence.Absent && session.Identity.ExpiresAt == long.MaxValue)
        {
            return (null, false);
        }
        if (presence == TokenPresence.Malformed)
        {
            return (Deny("refresh", "invalid_token"), false);
        }
        if (presence == TokenPresence.Present)
        {
            var check = await tokens.ValidateAsync(token!, cancellationToken).ConfigureAwait(false);
            if (check.User is null)
            {
                return (Deny("refresh", check.Reason!), false);
            }
            // A refresh renews the same identity; becoming someone else takes a new handshake.
            if (HalleyIdentity.SubjectOf(check.User) != session.Identity.Subject)
            {
                return (Deny("refresh", "subject_mismatch"), false);
            }
            session.Identity = IdentityOf(check.User);
        }
        if (IsExpired(session))
        {
            metrics.AuthDenied("session", TokenValidator.Expired);
            return (BayeuxErrors.Format(403, "", TokenValidator.Expired), true);
        }
        return (null, false);
    }

    /// <summary>
    /// The latest a connect of the session received at <paramref name="now"/> may be held (registry timestamps): until
    /// the token enters its refresh window, so the reply tells the client to refresh in time; inside the window, half
    /// the time left, so a client that does not refresh hears so again before the token runs out, and the session
    /// ends at the expiry itself. <see cref="long.MaxValue"/> for an identity that never expires.
    /// </summary>
    public long HoldLimit(BayeuxSession session, long now)
    {
        var expiresAt = session.Identity.ExpiresAt;
        if (expiresAt == long.MaxValue)
        {
            return long.MaxValue;
        }
        var refreshAt = expiresAt - _refreshBeforeTicks;
        return now < refreshAt ? refreshAt : now + Math.Max(0, (expiresAt - now) / 2);
    }

    /// <summary>Whether the session's token has expired.</summary>
    public bool IsExpired(BayeuxSession session) => sessions.Now >= session.Identity.ExpiresAt;

    /// <summary>Adds <c>ext.auth.refresh</c> (and <c>expiresIn</c>, in ms) to a connect reply when the token expires soon.</summary>
    public void AdviseRefresh(BayeuxReply reply, BayeuxSession session)
    {
        var expiresAt = session.Identity.ExpiresAt;
        if (expiresAt == long.MaxValue)
        {
            return;
        }
        var left = expiresAt - sessions.Now;
        if (left <= _refreshBeforeTicks)
        {
            var ms = Math.Max(0, (long)(left * 1000.0 / time.TimestampFrequency));
            (reply.Ext ??= [])[ExtName] = new JsonObject { ["refresh"] = true, ["expiresIn"] = ms };
        }
    }

    /// <summary>The session identity of <paramref name="user"/>: its expiry turned into a registry timestamp, clock skew included.</summary>
    private SessionIdentity IdentityOf(ClaimsPrincipal? user)
    {
        if (user is null)
        {
            return SessionIdentity.Anonymous;
        }
        if (HalleyIdentity.ExpiresAt(user) is not { } expires)
        {
            return new(user, long.MaxValue);
        }
        var left = expires + _auth.Jwt.ClockSkew - time.GetUtcNow();
        return new(user, sessions.Now + sessions.ToTicks(left));
    }

    private string Deny(string operation, string reason)
    {
        metrics.AuthDenied(operation, reason);
        return BayeuxErrors.Format(403, "", reason);
    }

    private enum TokenPresence
    {
        Absent,
        Present,
        Malformed,
    }

    /// <summary>Reads <c>ext.auth.token</c>: absent, a non-empty string, or anything else (malformed).</summary>
    private static TokenPresence TokenIn(BayeuxMessage message, out string? token)
    {
        token = null;
        if (!message.TryGetExt(ExtName, out var auth) || auth.ValueKind != JsonValueKind.Object || !auth.TryGetProperty("token", out var value))
        {
            return TokenPresence.Absent;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            return TokenPresence.Malformed;
        }
        token = text;
        return TokenPresence.Present;
    }
}
