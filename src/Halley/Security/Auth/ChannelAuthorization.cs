using System.Security.Claims;
using System.Text.Json;
using Halley.Diagnostics;
using Halley.Protocol;
using Microsoft.Extensions.Options;

namespace Halley.Security.Auth;

/// <summary>
/// The one per-client channel check, after <see cref="Channels.ChannelPolicy"/>'s rules for everyone: the configured
/// rules (<see cref="ChannelRuleSet"/>), a subscription token where a rule wants one, then the host's
/// <see cref="IChannelAuthorizer"/>s. Bayeux subscribe and publish, <c>/sse</c>, <c>/stream</c> and history reads all
/// ask it, so a client cannot read through one what another refuses; every refusal is counted in
/// <c>halley.auth.denied</c>.
/// </summary>
internal sealed class ChannelAuthorization(IEnumerable<IChannelAuthorizer> authorizers, TokenValidator tokens, IOptions<HalleyOptions> options, HalleyMetrics metrics)
{
    /// <summary>The query parameter carrying a subscription token on <c>/sse</c> and <c>/stream</c>.</summary>
    public const string TokenQueryParameter = "subscription_token";

    private readonly ChannelRuleSet _rules = new(options.Value.Auth.Channels);
    private readonly IChannelAuthorizer[] _authorizers = [.. authorizers];

    /// <summary>Whether every client may use every channel (no rules, no authorizers): then nothing is checked.</summary>
    public bool IsOpen => _rules.IsEmpty && _authorizers.Length == 0;

    /// <summary>
    /// Checks <paramref name="operation"/> on <paramref name="channel"/>; null when allowed, else the reason (already
    /// counted). <paramref name="transport"/> is <c>bayeux</c>, <c>sse</c>, <c>stream</c> or <c>history</c>.
    /// </summary>
    public ValueTask<string?> CheckAsync(ChannelOperation operation, string channel, ClaimsPrincipal? user, string transport, string? clientId, string? subscriptionToken, CancellationToken cancellationToken) =>
        IsOpen ? ValueTask.FromResult<string?>(null) : CheckSlowAsync(operation, channel, user, transport, clientId, subscriptionToken, cancellationToken);

    private async ValueTask<string?> CheckSlowAsync(ChannelOperation operation, string channel, ClaimsPrincipal? user, string transport, string? clientId, string? subscriptionToken, CancellationToken cancellationToken)
    {
        var reason = _rules.Check(operation, channel, user, out var needsToken);
        if (reason is null && needsToken)
        {
            reason = await CheckSubscriptionTokenAsync(channel, user, subscriptionToken, cancellationToken).ConfigureAwait(false);
        }
        if (reason is null && _authorizers.Length > 0)
        {
            var request = new ChannelAuthorizationRequest(operation, channel, user, transport, clientId);
            foreach (var authorizer in _authorizers)
            {
                var decision = await authorizer.AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
                if (!decision.IsAllowed)
                {
                    reason = string.IsNullOrEmpty(decision.Reason) ? "forbidden" : decision.Reason;
                    break;
                }
            }
        }
        if (reason is not null)
        {
            metrics.AuthDenied(transport == "history" ? "history" : operation == ChannelOperation.Subscribe ? "subscribe" : "publish", reason);
        }
        return reason;
    }

    /// <summary>
    /// A subscription token (as Centrifugo's): a JWT signed by the backend with the connection tokens' keys, whose
    /// <c>channel</c> claim is the channel and whose <c>sub</c> is the client's (absent for an anonymous client).
    /// </summary>
    private async ValueTask<string?> CheckSubscriptionTokenAsync(string channel, ClaimsPrincipal? user, string? token, CancellationToken cancellationToken)
    {
        if (token is null)
        {
            return "subscription_token_required";
        }
        var check = await tokens.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
        if (check.User is not { } granted)
        {
            return check.Reason == TokenValidator.Expired ? "subscription_token_expired" : "invalid_subscription_token";
        }
        var sameSubject = (HalleyIdentity.SubjectOf(granted) ?? "") == (HalleyIdentity.SubjectOf(user) ?? "");
        return granted.FindFirst("channel")?.Value == channel && sameSubject ? null : "invalid_subscription_token";
    }

    /// <summary>The subscription token of a <c>/meta/subscribe</c>: <c>ext.auth.subscriptionToken</c>, if a string.</summary>
    public static string? SubscriptionTokenIn(BayeuxMessage message) =>
        message.TryGetExt(SessionAuthentication.ExtName, out var auth) && auth.ValueKind == JsonValueKind.Object
        && auth.TryGetProperty("subscriptionToken", out var token) && token.ValueKind == JsonValueKind.String
            ? token.GetString()
            : null;
}
