using System.Text.Json.Nodes;
using Halley.Channels;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Security.Auth;

namespace Halley.Sessions;

/// <summary>
/// A client's publish: checks the channel and data, then broadcasts it through the hub, or hands a
/// <c>/service/**</c> message to <see cref="ServiceCalls"/>; a client's publish must pass the
/// <see cref="ChannelAuthorization"/> first.
/// </summary>
internal sealed class PublishRequests(MessageHub engine, ServiceCalls services, ChannelAuthorization authorization)
{
    public async ValueTask<BayeuxReply> PublishAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        var channel = message.Channel!;
        switch (ChannelPolicy.ForClientPublish(channel))
        {
            case ChannelVerdict.Invalid:
                return BayeuxReply.Failure(message, BayeuxErrors.InvalidChannel(channel));
            case ChannelVerdict.Wildcard:
                return BayeuxReply.Failure(message, BayeuxErrors.PublishForbidden(channel, "publish_to_wildcard"));
            case ChannelVerdict.Meta:
                return BayeuxReply.Failure(message, BayeuxErrors.UnknownMetaChannel(channel));
        }
        if (!message.HasData)
        {
            return BayeuxReply.Failure(message, BayeuxErrors.InvalidMessage("missing_data"));
        }
        if (await authorization.CheckAsync(ChannelOperation.Publish, channel, session.Identity.User, "bayeux", session.Id, null, cancellationToken).ConfigureAwait(false) is { } reason)
        {
            return BayeuxReply.Failure(message, BayeuxErrors.PublishForbidden(channel, reason));
        }
        if (ChannelName.KindOf(channel) == ChannelKind.Service)
        {
            return await services.CallAsync(message, session, cancellationToken).ConfigureAwait(false);
        }
        var published = await engine.PublishAsync(channel, message.DataJson, message.IdJson, cancellationToken).ConfigureAwait(false);
        var reply = new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id };
        if (published.Position is { } position)
        {
            reply.Ext = new JsonObject { ["halley"] = new JsonObject { ["position"] = position.ToString() } };
        }
        return reply;
    }
}
