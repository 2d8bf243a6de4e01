using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Channels;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Security.Auth;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>
/// <c>/meta/subscribe</c> and <c>/meta/unsubscribe</c>: checks the requested channels, changes the session's
/// subscriptions and the hub's index, and recovers what a resubscribing client missed (<c>ext.halley.position</c>).
/// Every channel must pass the <see cref="ChannelAuthorization"/> first, so a refused client reads neither live
/// messages nor the history a resume would replay.
/// </summary>
internal sealed class SubscriptionRequests(MessageHub engine, ChannelAuthorization authorization, IOptions<HalleyOptions> options, Security.Limits.ClientLimits? limits = null)
{
    private readonly HalleyOptions _options = options.Value;

    public async ValueTask<BayeuxReply> SubscribeAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        if (!TryValidateSubscriptions(message, out var error) || !TryReadPosition(message, out var since, out error))
        {
            return BayeuxReply.Failure(message, error);
        }
        if (!authorization.IsOpen)
        {
            var token = ChannelAuthorization.SubscriptionTokenIn(message);
            foreach (var channel in message.Subscriptions!)
            {
                if (await authorization.CheckAsync(ChannelOperation.Subscribe, channel, session.Identity.User, "bayeux", session.Id, token, cancellationToken).ConfigureAwait(false) is { } reason)
                {
                    return BayeuxReply.Failure(message, BayeuxErrors.SubscribeForbidden(channel, reason));
                }
            }
        }
        var added = new List<string>(message.Subscriptions!.Count);
        foreach (var channel in message.Subscriptions!)
        {
            if (!session.AddSubscription(channel, _options.MaxSubscriptionsPerSession, out var limitReached))
            {
                if (limitReached)
                {
                    // All or nothing: a failed reply must not leave part of the request subscribed.
                    foreach (var undo in added)
                    {
                        session.RemoveSubscription(undo);
                    }
                    limits?.Exceeded(Security.Limits.ClientLimits.Names.Subscriptions);
                    return BayeuxReply.Failure(message, BayeuxErrors.TooManySubscriptions(_options.MaxSubscriptionsPerSession));
                }
                continue;
            }
            added.Add(channel);
        }
        // One hub call for the whole request: a recovery replays each missed message once, in order, before
        // the live ones, skipping what the session already received through an earlier subscription, and only
        // if it fits in the room left in the session's queue (the session tells the hub both).
        Recovery recovery;
        try
        {
            recovery = await engine.SubscribeAsync(added, session, since, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The engine could not take them (its store is unavailable): the session must not think it has them.
            foreach (var channel in added)
            {
                session.RemoveSubscription(channel);
                engine.Unsubscribe(channel, session);
            }
            throw;
        }
        // A session that ended meanwhile already released its subscriptions; do not leave these behind.
        if (session.IsTerminated)
        {
            foreach (var channel in added)
            {
                engine.Unsubscribe(channel, session);
            }
        }
        var reply = SubscriptionReply(message, session);
        if (since is not null || engine.HasHistory)
        {
            var halley = new JsonObject { ["position"] = recovery.Position.ToString() };
            if (since is not null)
            {
                halley["recovered"] = recovery.Recovered;
            }
            reply.Ext = new JsonObject { ["halley"] = halley };
        }
        return reply;
    }

    public BayeuxReply Unsubscribe(BayeuxMessage message, BayeuxSession session)
    {
        if (!TryValidateSubscriptions(message, out var error))
        {
            return BayeuxReply.Failure(message, error);
        }
        foreach (var channel in message.Subscriptions!)
        {
            if (session.RemoveSubscription(channel))
            {
                engine.Unsubscribe(channel, session);
            }
        }
        return SubscriptionReply(message, session);
    }

    /// <summary>Reads <c>ext.halley.position</c>, the last position a resubscribing client saw; absent is fine, malformed is not.</summary>
    private static bool TryReadPosition(BayeuxMessage message, out StreamPosition? position, out string error)
    {
        position = null;
        error = "";
        if (!message.TryGetExt("halley", out var halley) || halley.ValueKind != JsonValueKind.Object
            || !halley.TryGetProperty("position", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (value.ValueKind != JsonValueKind.String || !StreamPosition.TryParse(value.GetString(), out var parsed))
        {
            error = BayeuxErrors.InvalidMessage("invalid_position");
            return false;
        }
        position = parsed;
        return true;
    }

    private static BayeuxReply SubscriptionReply(BayeuxMessage message, BayeuxSession session) =>
        new(message.Channel!, message)
        {
            Successful = true,
            ClientId = session.Id,
            Subscriptions = message.Subscriptions,
            SubscriptionIsArray = message.SubscriptionIsArray,
        };

    private static bool TryValidateSubscriptions(BayeuxMessage message, out string error)
    {
        if (message.Subscriptions is not { Count: > 0 } subscriptions)
        {
            error = BayeuxErrors.InvalidMessage("missing_subscription");
            return false;
        }
        foreach (var channel in subscriptions)
        {
            switch (ChannelPolicy.ForSubscribe(channel))
            {
                case ChannelVerdict.Invalid:
                    error = BayeuxErrors.InvalidChannel(channel);
                    return false;
                case ChannelVerdict.Meta:
                    error = BayeuxErrors.SubscribeForbidden(channel, "meta_channels_are_not_subscribable");
                    return false;
                case ChannelVerdict.Service:
                    error = BayeuxErrors.SubscribeForbidden(channel, "service_channels_are_not_broadcast");
                    return false;
            }
        }
        error = "";
        return true;
    }
}
