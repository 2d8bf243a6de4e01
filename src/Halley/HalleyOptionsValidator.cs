using Halley.Channels;
using Microsoft.Extensions.Options;

namespace Halley;

/// <summary>Rejects settings that cannot work, at start-up, with the key that is wrong.</summary>
internal sealed class HalleyOptionsValidator : IValidateOptions<HalleyOptions>
{
    public ValidateOptionsResult Validate(string? name, HalleyOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add(message);
            }
        }
        Require(options.Timeout > TimeSpan.Zero, "Halley:Timeout must be positive.");
        Require(options.Interval >= TimeSpan.Zero, "Halley:Interval must not be negative.");
        Require(options.MaxInterval > TimeSpan.Zero, "Halley:MaxInterval must be positive.");
        Require(options.MaxLazyTimeout > TimeSpan.Zero, "Halley:MaxLazyTimeout must be positive.");
        Require(options.SweepPeriod >= TimeSpan.FromMilliseconds(10), "Halley:SweepPeriod must be at least 10 ms.");
        Require(options.MaxQueue > 0, "Halley:MaxQueue must be positive.");
        Require(options.MaxMessageSize >= 1024, "Halley:MaxMessageSize must be at least 1024 bytes.");
        Require(options.MaxSubscriptionsPerSession > 0, "Halley:MaxSubscriptionsPerSession must be positive.");
        Require(options.HeartbeatInterval > TimeSpan.Zero, "Halley:HeartbeatInterval must be positive.");
        Require(options.MaxConnectionLifetime > TimeSpan.Zero, "Halley:MaxConnectionLifetime must be positive.");
        Require(options.Streaming.MaxChannelsPerRequest > 0, "Halley:Streaming:MaxChannelsPerRequest must be positive.");
        Require(options.Streaming.MaxPadding >= 0, "Halley:Streaming:MaxPadding must not be negative.");
        Require(options.Streaming.Padding >= 0 && options.Streaming.Padding <= options.Streaming.MaxPadding, "Halley:Streaming:Padding must be between 0 and Halley:Streaming:MaxPadding.");
        Require(options.Streaming.RetryDelay >= TimeSpan.Zero, "Halley:Streaming:RetryDelay must not be negative.");
        Require(!string.IsNullOrWhiteSpace(options.SessionBinding.BrowserCookieName), "Halley:SessionBinding:BrowserCookieName must be set.");
        foreach (var origin in options.Cors.AllowedOrigins)
        {
            Require(Security.OriginPolicy.IsValidListEntry(origin),
                $"Halley:Cors:AllowedOrigins has '{origin}', which is not an origin: use scheme://host[:port] (e.g. https://app.example.com) or *.");
        }
        foreach (var pattern in options.LazyChannels)
        {
            Require(ChannelName.IsValid(pattern, out _), $"Halley:LazyChannels has an invalid channel '{pattern}'.");
        }
        foreach (var (pattern, rule) in options.History.Channels)
        {
            Require(ChannelPolicy.ForSubscribe(pattern) == ChannelVerdict.Allowed,
                $"Halley:History:Channels has an invalid broadcast channel '{pattern}'.");
            Require(rule.Size is > 0 and <= 1_000_000, $"Halley:History:Channels:{pattern}:Size must be between 1 and 1,000,000.");
            Require(rule.Ttl > TimeSpan.Zero, $"Halley:History:Channels:{pattern}:Ttl must be positive.");
        }
        var limits = options.Limits;
        Require(limits.MaxMessagesPerBatch > 0, "Halley:Limits:MaxMessagesPerBatch must be positive.");
        Require(limits.MaxBayeuxMessageSize >= 256, "Halley:Limits:MaxBayeuxMessageSize must be at least 256 bytes.");
        Require(limits.MaxJsonDepth is >= 4 and <= 1000, "Halley:Limits:MaxJsonDepth must be between 4 and 1,000.");
        Require(limits.MaxSessionsPerAddress > 0, "Halley:Limits:MaxSessionsPerAddress must be positive.");
        Require(limits.MaxConnectionsPerAddress > 0, "Halley:Limits:MaxConnectionsPerAddress must be positive.");
        Require(limits.MaxSessionsPerNode > 0, "Halley:Limits:MaxSessionsPerNode must be positive.");
        Require(limits.MaxConnectionsPerNode > 0, "Halley:Limits:MaxConnectionsPerNode must be positive.");
        Require(limits.HandshakesPerSecondPerAddress > 0, "Halley:Limits:HandshakesPerSecondPerAddress must be positive.");
        Require(limits.HandshakeBurstPerAddress > 0, "Halley:Limits:HandshakeBurstPerAddress must be positive.");
        Require(limits.PublishesPerSecondPerSession > 0, "Halley:Limits:PublishesPerSecondPerSession must be positive.");
        Require(limits.PublishBurstPerSession > 0, "Halley:Limits:PublishBurstPerSession must be positive.");
        Require(limits.MessageReadTimeout > TimeSpan.Zero, "Halley:Limits:MessageReadTimeout must be positive.");
        Require(limits.BackoffMin >= TimeSpan.Zero && limits.BackoffMax >= limits.BackoffMin, "Halley:Limits:BackoffMin must not be negative nor above Halley:Limits:BackoffMax.");
        Require(options.History.MaxRecoveredMessages > 0, "Halley:History:MaxRecoveredMessages must be positive.");
        ValidateAuth(options, Require);
        for (var i = 0; i < options.Api.Keys.Count; i++)
        {
            var key = options.Api.Keys[i];
            Require(!string.IsNullOrEmpty(key.Key), $"Halley:Api:Keys:{i}:Key must be set.");
            Require(key.Scopes.Count > 0 && key.Scopes.All(Security.ApiKeyAuthorization.Scopes.Contains),
                $"Halley:Api:Keys:{i}:Scopes must list some of: {string.Join(", ", Security.ApiKeyAuthorization.Scopes)}.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateAuth(HalleyOptions options, Action<bool, string> require)
    {
        var jwt = options.Auth.Jwt;
        for (var i = 0; i < jwt.Keys.Count; i++)
        {
            require(Security.Auth.SigningKeys.IsValid(jwt.Keys[i], out var error), $"Halley:Auth:Jwt:Keys:{i}: {error}.");
        }
        require(jwt.JwksUrl is null || (jwt.JwksUrl.IsAbsoluteUri && jwt.JwksUrl.Scheme is "https" or "http"), "Halley:Auth:Jwt:JwksUrl must be an absolute http(s) URL.");
        require(jwt.JwksRefreshInterval > TimeSpan.Zero, "Halley:Auth:Jwt:JwksRefreshInterval must be positive.");
        require(jwt.JwksMinRefreshInterval >= TimeSpan.Zero, "Halley:Auth:Jwt:JwksMinRefreshInterval must not be negative.");
        require(jwt.ClockSkew >= TimeSpan.Zero, "Halley:Auth:Jwt:ClockSkew must not be negative.");
        require(options.Auth.RefreshBefore >= TimeSpan.Zero, "Halley:Auth:RefreshBefore must not be negative.");
        for (var i = 0; i < options.Auth.Channels.Count; i++)
        {
            require(Security.Auth.ChannelRuleSet.IsValid(options.Auth.Channels[i], out var error), $"Halley:Auth:Channels:{i}: {error}.");
        }
        require(!options.Auth.Channels.Any(r => r.Subscribe.Trim().Equals("token", StringComparison.OrdinalIgnoreCase)) || jwt.IsEnabled,
            "Halley:Auth:Channels asks for subscription tokens, but no Halley:Auth:Jwt:Keys or JwksUrl is set to verify them.");
    }
}
