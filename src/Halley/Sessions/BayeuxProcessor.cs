using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Channels;
using Halley.Engine;
using Halley.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>
/// The Bayeux rules, independent of transport: handles each message of a batch in order and leaves the one
/// <c>/meta/connect</c> of the batch, if any, for the transport to hold.
/// </summary>
internal sealed partial class BayeuxProcessor
{
    private static readonly byte[] JsonNull = "null"u8.ToArray();

    private readonly SessionRegistry _sessions;
    private readonly MessageHub _engine;
    private readonly HalleyOptions _options;
    private readonly ServiceChannelOptions _services;
    private readonly TimeProvider _time;
    private readonly ILogger<BayeuxProcessor> _logger;
    private readonly Advice _retryAdvice;
    private readonly Advice _handshakeAdvice;
    private readonly Advice _eventSourceAdvice;
    private readonly Advice _reconnectNowAdvice = new() { Reconnect = ReconnectAdvice.Retry, Interval = 0 };
    private readonly long _eventSourceGrace;
    private readonly long _handshakeClaimTicks;

    public BayeuxProcessor(SessionRegistry sessions, MessageHub engine, IOptions<HalleyOptions> options, IOptions<ServiceChannelOptions> services, TimeProvider time, ILogger<BayeuxProcessor> logger)
    {
        _sessions = sessions;
        _engine = engine;
        _options = options.Value;
        _services = services.Value;
        _time = time;
        _logger = logger;
        _retryAdvice = new Advice
        {
            Reconnect = ReconnectAdvice.Retry,
            Interval = (long)_options.Interval.TotalMilliseconds,
            Timeout = (long)_options.Timeout.TotalMilliseconds,
        };
        _handshakeAdvice = new Advice
        {
            Reconnect = ReconnectAdvice.Retry,
            Interval = (long)_options.Interval.TotalMilliseconds,
            Timeout = (long)_options.Timeout.TotalMilliseconds,
            MaxInterval = (long)_options.MaxInterval.TotalMilliseconds,
        };
        // As Faye's server: an eventsource connect is answered at once, and the client waits a whole hold time
        // before the next one, since events come on the stream meanwhile.
        _eventSourceAdvice = new Advice
        {
            Reconnect = ReconnectAdvice.Retry,
            Interval = (long)_options.Timeout.TotalMilliseconds,
            Timeout = 0,
        };
        _eventSourceGrace = sessions.ToTicks(_options.Timeout);
        // The socket Faye opens with its HTTP handshake first speaks, at the latest, with the connect that follows
        // one held over long-polling: at most Timeout later, and within MaxInterval of that connect's reply, or the
        // session has expired anyway. So the handshake's claim window lasts one connect cycle and no longer.
        _handshakeClaimTicks = sessions.ToTicks(_options.Timeout + _options.MaxInterval);
    }

    /// <summary>
    /// Handles every message of <paramref name="batch"/>, adding their replies to <paramref name="replies"/> in
    /// order. Returns the batch's connect, already held, for the transport to complete; null if none.
    /// </summary>
    public async ValueTask<PendingConnect?> ProcessAsync(List<BayeuxMessage> batch, TransportContext context, List<BayeuxReply> replies, CancellationToken cancellationToken)
    {
        if (batch.Count > 1 && batch.Exists(static m => m.Channel == MetaChannels.Handshake))
        {
            foreach (var message in batch)
            {
                replies.Add(BayeuxReply.Failure(message, BayeuxErrors.HandshakeBatched));
            }
            return null;
        }

        (BayeuxMessage Message, BayeuxSession Session, long ReceivedAt)? connect = null;
        foreach (var message in batch)
        {
            var receivedAt = _time.GetTimestamp();
            if (message.Invalid is not null)
            {
                replies.Add(BayeuxReply.Failure(message, message.Invalid));
                continue;
            }
            if (message.Channel is null)
            {
                replies.Add(BayeuxReply.Failure(message, BayeuxErrors.InvalidMessage("missing_channel")));
                continue;
            }
            if (message.Channel == MetaChannels.Handshake)
            {
                replies.Add(Handshake(message, context, receivedAt));
                continue;
            }
            if (!TryGetSession(message, context, out var session))
            {
                replies.Add(BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake));
                continue;
            }
            switch (message.Channel)
            {
                case MetaChannels.Connect:
                    if (connect is { } earlier)
                    {
                        replies.Add(BayeuxReply.Failure(earlier.Message, BayeuxErrors.InvalidMessage("multiple_connects_in_batch")));
                    }
                    connect = (message, session, receivedAt);
                    break;
                case MetaChannels.Subscribe:
                    replies.Add(await SubscribeAsync(message, session, cancellationToken).ConfigureAwait(false));
                    break;
                case MetaChannels.Unsubscribe:
                    replies.Add(Unsubscribe(message, session));
                    break;
                case MetaChannels.Disconnect:
                    _sessions.Terminate(session, TerminationReason.Disconnected);
                    replies.Add(new BayeuxReply(message.Channel, message) { Successful = true, ClientId = session.Id });
                    break;
                default:
                    replies.Add(await PublishAsync(message, session, cancellationToken).ConfigureAwait(false));
                    break;
            }
        }

        // The connect is held last, so subscriptions in the same batch are already in place when it waits.
        return connect is { } c ? BeginConnect(c.Message, c.Session, c.ReceivedAt, replies) : null;
    }

    /// <summary>Builds the reply of a held connect once it ended; queued messages go into <paramref name="events"/>.</summary>
    public BayeuxReply CompleteConnect(PendingConnect pending, ConnectOutcome outcome, List<EncodedMessage> events)
    {
        var session = pending.Session;
        var message = pending.Message;
        if (outcome == ConnectOutcome.Terminated)
        {
            return session.TerminationReason == TerminationReason.Disconnected
                ? new BayeuxReply(MetaChannels.Connect, message) { Successful = true, ClientId = session.Id, Advice = Advice.Stop }
                : BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake);
        }
        var advice = outcome == ConnectOutcome.ConnectionClosing ? _reconnectNowAdvice
            : message.ConnectionType == ConnectionTypes.EventSource ? _eventSourceAdvice
            : _retryAdvice;
        var reply = new BayeuxReply(MetaChannels.Connect, message) { Successful = true, ClientId = session.Id, Advice = advice };
        if (outcome != ConnectOutcome.Replaced && session.CompleteConnect(pending.Held, events) is { } batch)
        {
            reply.Ext = new JsonObject { ["ack"] = batch };
        }
        AddTimesync(reply, message, pending.ReceivedAt);
        return reply;
    }

    private BayeuxReply Handshake(BayeuxMessage message, TransportContext context, long receivedAt)
    {
        if (message.Version is { } version && !version.StartsWith('1'))
        {
            return BayeuxReply.Failure(message, BayeuxErrors.VersionMismatch, Advice.Stop);
        }
        if (message.SupportedConnectionTypes is { } types && !types.Any(ConnectionTypes.IsSupported))
        {
            var failure = BayeuxReply.Failure(message, BayeuxErrors.ConnectionTypeMismatch(string.Join(',', types)), Advice.Stop);
            failure.IncludeHandshakeFields = true;
            return failure;
        }
        var session = _sessions.Create(context.BrowserId, context.Carrier);
        // A client that says it cannot use WebSocket never needs a cookie-less socket to take its session over.
        if (context.Carrier is null && (message.SupportedConnectionTypes is not { } offered || offered.Contains(ConnectionTypes.WebSocket, StringComparer.Ordinal)))
        {
            session.OpenHandshakeClaimWindow(_sessions.Now + _handshakeClaimTicks);
        }
        var ext = new JsonObject { ["halley"] = new JsonObject { ["token"] = session.Token } };
        if (message.TryGetExt("ack", out var ack) && ack.ValueKind == JsonValueKind.True)
        {
            session.EnableAck();
            ext["ack"] = true;
        }
        context.Carrier?.SessionUsed(session);
        var reply = new BayeuxReply(MetaChannels.Handshake, message)
        {
            Successful = true,
            ClientId = session.Id,
            IncludeHandshakeFields = true,
            Advice = _handshakeAdvice,
            Ext = ext,
        };
        AddTimesync(reply, message, receivedAt);
        return reply;
    }

    private PendingConnect? BeginConnect(BayeuxMessage message, BayeuxSession session, long receivedAt, List<BayeuxReply> replies)
    {
        if (message.ConnectionType is { } type && !ConnectionTypes.IsSupported(type))
        {
            replies.Add(BayeuxReply.Failure(message, BayeuxErrors.ConnectionTypeMismatch(type)));
            return null;
        }
        if (session.AckEnabled && message.TryGetExt("ack", out var ack) && ack.ValueKind == JsonValueKind.Number && ack.TryGetInt64(out var batch))
        {
            session.Acknowledge(batch);
        }
        var serverTimeout = (long)_options.Timeout.TotalMilliseconds;
        // An eventsource connect is never held: its events go down the session's stream.
        var eventSource = message.ConnectionType == ConnectionTypes.EventSource;
        var timeout = eventSource ? 0 : Math.Min(message.AdviceTimeout ?? serverTimeout, serverTimeout);
        var held = session.BeginConnect(
            receivedAt + _sessions.ToTicks(TimeSpan.FromMilliseconds(timeout)),
            replyNow: timeout == 0,
            expiryGrace: eventSource ? _eventSourceGrace : 0);
        if (held is null)
        {
            replies.Add(BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake));
            return null;
        }
        return new PendingConnect(message, session, held, receivedAt);
    }

    private async ValueTask<BayeuxReply> SubscribeAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        if (!TryValidateSubscriptions(message, out var error) || !TryReadPosition(message, out var since, out error))
        {
            return BayeuxReply.Failure(message, error);
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
                    return BayeuxReply.Failure(message, BayeuxErrors.TooManySubscriptions(_options.MaxSubscriptionsPerSession));
                }
                continue;
            }
            added.Add(channel);
        }
        // One hub call for the whole request: a recovery replays each missed message once, in order, before
        // the live ones, skipping what the session already received through an earlier subscription, and only
        // if it fits in the room left in the session's queue (the session tells the hub both).
        var recovery = await _engine.SubscribeAsync(added, session, since, cancellationToken).ConfigureAwait(false);
        // A session that ended meanwhile already released its subscriptions; do not leave these behind.
        if (session.IsTerminated)
        {
            foreach (var channel in added)
            {
                _engine.Unsubscribe(channel, session);
            }
        }
        var reply = SubscriptionReply(message, session);
        if (since is not null || _engine.HasHistory)
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

    private BayeuxReply Unsubscribe(BayeuxMessage message, BayeuxSession session)
    {
        if (!TryValidateSubscriptions(message, out var error))
        {
            return BayeuxReply.Failure(message, error);
        }
        foreach (var channel in message.Subscriptions!)
        {
            if (session.RemoveSubscription(channel))
            {
                _engine.Unsubscribe(channel, session);
            }
        }
        return SubscriptionReply(message, session);
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

    private async ValueTask<BayeuxReply> PublishAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
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
        if (ChannelName.KindOf(channel) == ChannelKind.Service)
        {
            return await CallServiceAsync(message, session, cancellationToken).ConfigureAwait(false);
        }
        var published = await _engine.PublishAsync(channel, message.DataJson, message.IdJson, cancellationToken).ConfigureAwait(false);
        var reply = new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id };
        if (published.Position is { } position)
        {
            reply.Ext = new JsonObject { ["halley"] = new JsonObject { ["position"] = position.ToString() } };
        }
        return reply;
    }

    private async ValueTask<BayeuxReply> CallServiceAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        var channel = message.Channel!;
        if (!_services.Handlers.TryGetValue(channel, out var handler))
        {
            // As in CometD: a service message nobody handles is accepted and goes nowhere.
            return new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id };
        }
        try
        {
            var data = JsonSerializer.Deserialize<JsonElement>(message.DataJson.Span);
            var result = await handler(new BayeuxServiceCall(channel, session.Id, data), cancellationToken).ConfigureAwait(false);
            var json = result is null ? JsonNull : JsonSerializer.SerializeToUtf8Bytes(result, result.GetType());
            return new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id, DataJson = json };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ServiceFailed(_logger, channel, ex);
            return BayeuxReply.Failure(message, BayeuxErrors.ServiceFailed(channel));
        }
    }

    private bool TryGetSession(BayeuxMessage message, TransportContext context, out BayeuxSession session)
    {
        if (!_sessions.TryGet(message.ClientId, out session) || !IsBound(session, message, context))
        {
            return false;
        }
        if (context.Carrier is not null && !ReferenceEquals(session.Owner, context.Carrier))
        {
            session.Owner = context.Carrier;
            // The client has its socket now: no other may take the session over by client id alone.
            session.CloseClaimWindows();
        }
        context.Carrier?.SessionUsed(session);
        return true;
    }

    /// <summary>
    /// Whether this request may act for <paramref name="session"/>: the WebSocket that created or adopted it,
    /// the browser cookie it was created with, the secret token from its handshake reply, or the first WebSocket
    /// claiming a session in one of its claim windows (see <see cref="BayeuxSession.TryClaimForWebSocket"/>).
    /// </summary>
    private bool IsBound(BayeuxSession session, BayeuxMessage message, TransportContext context)
    {
        if (context.Carrier is not null && ReferenceEquals(session.Owner, context.Carrier))
        {
            return true;
        }
        if (message.TryGetExt("halley", out var halley) && halley.ValueKind == JsonValueKind.Object
            && halley.TryGetProperty("token", out var token) && token.ValueKind == JsonValueKind.String
            && FixedTimeEquals(token.GetString()!, session.Token))
        {
            return true;
        }
        if (!_options.SessionBinding.RequireBrowserCookie)
        {
            return true;
        }
        if (session.BrowserId is not null && context.BrowserId is not null && FixedTimeEquals(context.BrowserId, session.BrowserId))
        {
            return true;
        }
        return context.Carrier is not null && session.TryClaimForWebSocket();
    }

    /// <summary>
    /// Whether a Faye <c>eventsource</c> stream (<c>GET /cometd/{clientId}</c>) may push <paramref name="clientId"/>'s
    /// messages. An <c>EventSource</c> can send neither <c>ext</c> nor headers, so only the browser cookie the session
    /// was created with binds it (rule 2 of <see cref="IsBound"/>), unless that rule is turned off.
    /// </summary>
    public StreamBinding BindStream(string? clientId, string? browserId, out BayeuxSession session)
    {
        if (!_sessions.TryGet(clientId, out session))
        {
            return StreamBinding.UnknownSession;
        }
        if (!_options.SessionBinding.RequireBrowserCookie)
        {
            return StreamBinding.Bound;
        }
        return session.BrowserId is not null && browserId is not null && FixedTimeEquals(browserId, session.BrowserId)
            ? StreamBinding.Bound
            : StreamBinding.NotBound;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>CometD's timesync extension: echoes the client's clock with the server's, so it can estimate offset and lag.</summary>
    private void AddTimesync(BayeuxReply reply, BayeuxMessage message, long receivedAt)
    {
        if (!message.TryGetExt("timesync", out var timesync) || timesync.ValueKind != JsonValueKind.Object
            || !TryGetInt64(timesync, "tc", out var tc))
        {
            return;
        }
        var lag = TryGetInt64(timesync, "l", out var lagValue) ? lagValue : 0;
        var serverNow = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var processing = (long)_time.GetElapsedTime(receivedAt).TotalMilliseconds;
        var ts = serverNow - processing;
        reply.Ext ??= [];
        reply.Ext["timesync"] = new JsonObject { ["tc"] = tc, ["ts"] = ts, ["p"] = processing, ["a"] = ts - tc - lag };
    }

    // JsonElement.TryGetInt64 throws on non-numbers; client input must only ever be ignored.
    private static bool TryGetInt64(JsonElement parent, string name, out long value)
    {
        value = 0;
        return parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Error, "Service channel {Channel} failed", EventName = "ServiceFailed")]
        public static partial void ServiceFailed(ILogger logger, string channel, Exception exception);
    }
}

/// <summary>What <see cref="BayeuxProcessor.BindStream"/> found.</summary>
internal enum StreamBinding
{
    Bound,

    /// <summary>No live session has that client id.</summary>
    UnknownSession,

    /// <summary>The session exists, but the request does not carry the browser cookie it was created with.</summary>
    NotBound,
}
