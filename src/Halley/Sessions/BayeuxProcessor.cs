using System.Text.Json.Nodes;
using Halley.Engine;
using Halley.Extensions;
using Halley.Protocol;
using Halley.Security;
using Halley.Security.Auth;
using Halley.Security.Limits;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>
/// The Bayeux rules, independent of transport: handles each message of a batch in order and leaves the one
/// <c>/meta/connect</c> of the batch, if any, for the transport to hold. It dispatches; the rooms around it do the
/// rest: <see cref="SessionBinding"/> decides which session a message may act for, the <see cref="ExtensionPipeline"/>
/// runs the extensions (ack and timesync among them) on every message and reply, <see cref="SubscriptionRequests"/>
/// and <see cref="PublishRequests"/> (with <see cref="ServiceCalls"/>) answer what is not a session's life cycle.
/// </summary>
internal sealed class BayeuxProcessor
{
    private readonly SessionRegistry _sessions;
    private readonly SessionBinding _binding;
    private readonly ExtensionPipeline _extensions;
    private readonly SubscriptionRequests _subscriptions;
    private readonly PublishRequests _publishing;
    private readonly SessionAuthentication _authentication;
    private readonly HalleyOptions _options;
    private readonly TimeProvider _time;
    private readonly ClientLimits? _limits;
    private readonly Advice _retryAdvice;
    private readonly Advice _handshakeAdvice;
    private readonly Advice _eventSourceAdvice;
    private readonly Advice _reconnectNowAdvice = new() { Reconnect = ReconnectAdvice.Retry, Interval = 0 };
    private readonly long _eventSourceGrace;

    public BayeuxProcessor(SessionRegistry sessions, SessionBinding binding, ExtensionPipeline extensions, SubscriptionRequests subscriptions, PublishRequests publishing, SessionAuthentication authentication, IOptions<HalleyOptions> options, TimeProvider time, ClientLimits? limits = null)
    {
        _authentication = authentication;
        _limits = limits;
        _sessions = sessions;
        _binding = binding;
        _extensions = extensions;
        _subscriptions = subscriptions;
        _publishing = publishing;
        _options = options.Value;
        _time = time;
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
    }

    /// <summary>
    /// Handles every message of <paramref name="batch"/>, adding their replies to <paramref name="replies"/> in
    /// order. Returns the batch's connect, already held, for the transport to complete; null if none.
    /// </summary>
    public async ValueTask<PendingConnect?> ProcessAsync(List<BayeuxMessage> batch, TransportContext context, List<BayeuxReply> replies, CancellationToken cancellationToken)
    {
        if (batch.Count > 1 && batch.Exists(static m => m.Channel == MetaChannels.Handshake))
        {
            var now = _time.GetTimestamp();
            foreach (var message in batch)
            {
                Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.HandshakeBatched), message, null, now);
            }
            return null;
        }

        (BayeuxMessage Message, BayeuxSession Session, long ReceivedAt)? connect = null;
        foreach (var message in batch)
        {
            var receivedAt = _time.GetTimestamp();
            if (message.Invalid is not null)
            {
                if (ReferenceEquals(message.Invalid, BayeuxCodec.MessageTooLarge))
                {
                    _limits?.Exceeded(ClientLimits.Names.MessageSize);
                }
                Reply(replies, BayeuxReply.Failure(message, message.Invalid), message, null, receivedAt);
                continue;
            }
            if (message.Channel is null)
            {
                Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.InvalidMessage("missing_channel")), message, null, receivedAt);
                continue;
            }
            if (message.Channel == MetaChannels.Handshake)
            {
                await HandshakeAsync(message, context, receivedAt, replies, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!_binding.TryBind(message, context, out var session))
            {
                Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake), message, null, receivedAt);
                continue;
            }
            context.Carrier?.SessionUsed(session);
            if (!_extensions.Receive(message, session, receivedAt))
            {
                Reply(replies, ExtensionPipeline.Refusal(message), message, session, receivedAt);
                continue;
            }
            var (authError, tokenExpired) = await _authentication.CheckAsync(message, session, cancellationToken).ConfigureAwait(false);
            if (authError is not null)
            {
                if (tokenExpired)
                {
                    _sessions.Terminate(session, TerminationReason.TokenExpired);
                }
                Reply(replies, BayeuxReply.Failure(message, authError, tokenExpired ? Advice.Handshake : null), message, session, receivedAt);
                continue;
            }
            switch (message.Channel)
            {
                case MetaChannels.Connect:
                    if (connect is { } earlier)
                    {
                        Reply(replies, BayeuxReply.Failure(earlier.Message, BayeuxErrors.InvalidMessage("multiple_connects_in_batch")), earlier.Message, earlier.Session, earlier.ReceivedAt);
                    }
                    connect = (message, session, receivedAt);
                    break;
                case MetaChannels.Subscribe:
                    Reply(replies, await UnlessEngineUnavailable(message, _subscriptions.SubscribeAsync(message, session, cancellationToken)).ConfigureAwait(false), message, session, receivedAt);
                    break;
                case MetaChannels.Unsubscribe:
                    Reply(replies, _subscriptions.Unsubscribe(message, session), message, session, receivedAt);
                    break;
                case MetaChannels.Disconnect:
                    _sessions.Terminate(session, TerminationReason.Disconnected);
                    Reply(replies, new BayeuxReply(message.Channel, message) { Successful = true, ClientId = session.Id }, message, session, receivedAt);
                    break;
                default:
                    var published = _limits is null || _limits.TryPublish(session.Id)
                        ? await UnlessEngineUnavailable(message, _publishing.PublishAsync(message, session, cancellationToken)).ConfigureAwait(false)
                        : BayeuxReply.Failure(message, ClientLimits.PublishRateExceeded);
                    Reply(replies, published, message, session, receivedAt);
                    break;
            }
        }

        // The connect is held last, so subscriptions in the same batch are already in place when it waits.
        return connect is { } c ? BeginConnect(c.Message, c.Session, c.ReceivedAt, replies) : null;
    }

    /// <summary>
    /// The reply of <paramref name="handling"/>, or, when the engine's store cannot be reached, a failure that tells
    /// the client to retry after a jittered interval: the session and the rest of the batch carry on.
    /// </summary>
    private static async ValueTask<BayeuxReply> UnlessEngineUnavailable(BayeuxMessage message, ValueTask<BayeuxReply> handling)
    {
        try
        {
            return await handling.ConfigureAwait(false);
        }
        catch (EngineUnavailableException)
        {
            return BayeuxReply.Failure(message, BayeuxErrors.EngineUnavailable, Advice.BackOff());
        }
    }

    /// <summary>Builds the reply of a held connect once it ended; queued messages go into <paramref name="events"/>.</summary>
    public BayeuxReply CompleteConnect(PendingConnect pending, ConnectOutcome outcome, List<EncodedMessage> events)
    {
        var session = pending.Session;
        var message = pending.Message;
        BayeuxReply reply;
        long? ackBatch = null;
        if (outcome != ConnectOutcome.Terminated && _authentication.IsExpired(session))
        {
            // The connect was held no longer than the token lasts: the session ends here, with the reason.
            _sessions.Terminate(session, TerminationReason.TokenExpired);
            outcome = ConnectOutcome.Terminated;
        }
        if (outcome == ConnectOutcome.Terminated)
        {
            reply = session.TerminationReason switch
            {
                TerminationReason.Disconnected => new BayeuxReply(MetaChannels.Connect, message) { Successful = true, ClientId = session.Id, Advice = Advice.Stop },
                TerminationReason.TokenExpired => BayeuxReply.Failure(message, BayeuxErrors.Format(403, "", TokenValidator.Expired), Advice.Handshake),
                _ => BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake),
            };
        }
        else
        {
            var advice = outcome == ConnectOutcome.ConnectionClosing ? _reconnectNowAdvice
                : message.ConnectionType == ConnectionTypes.EventSource ? _eventSourceAdvice
                : _retryAdvice;
            reply = new BayeuxReply(MetaChannels.Connect, message) { Successful = true, ClientId = session.Id, Advice = advice };
            _authentication.AdviseRefresh(reply, session);
            if (outcome != ConnectOutcome.Replaced)
            {
                // The ack extension numbers the reply with this batch; the session kept its messages for a resend.
                ackBatch = session.CompleteConnect(pending.Held, events);
            }
        }
        // The queue is drained by now: extensions must not throw past this point, and the pipeline sees to it.
        _extensions.Send(reply, message, session, pending.ReceivedAt, ackBatch);
        return reply;
    }

    private async ValueTask HandshakeAsync(BayeuxMessage message, TransportContext context, long receivedAt, List<BayeuxReply> replies, CancellationToken cancellationToken)
    {
        if (!_extensions.Receive(message, null, receivedAt))
        {
            Reply(replies, ExtensionPipeline.Refusal(message), message, null, receivedAt);
            return;
        }
        // Bayeux 1.0 makes version mandatory in a handshake; a client that omits it is not a Bayeux client we know.
        if (message.Version is null)
        {
            Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.VersionMissing, Advice.Stop), message, null, receivedAt);
            return;
        }
        if (!message.Version.StartsWith('1'))
        {
            Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.VersionMismatch, Advice.Stop), message, null, receivedAt);
            return;
        }
        if (message.SupportedConnectionTypes is { } types && !types.Any(ConnectionTypes.IsSupported))
        {
            var failure = BayeuxReply.Failure(message, BayeuxErrors.ConnectionTypeMismatch(string.Join(',', types)), Advice.Stop);
            failure.IncludeHandshakeFields = true;
            Reply(replies, failure, message, null, receivedAt);
            return;
        }
        var (identity, authError) = await _authentication.HandshakeAsync(message, context, cancellationToken).ConfigureAwait(false);
        if (identity is null)
        {
            Reply(replies, BayeuxReply.Failure(message, authError!, Advice.Stop), message, null, receivedAt);
            return;
        }
        // Last of the checks, as it counts the session against the node's and the address's limits.
        if (_limits is not null && !_limits.TryAdmitSession(context.RemoteAddress, out var refusal, out var backoff))
        {
            Reply(replies, BayeuxReply.Failure(message, refusal!, backoff), message, null, receivedAt);
            return;
        }
        var session = _sessions.Create(context.BrowserId, context.Carrier, _limits, context.RemoteAddress);
        session.Identity = identity;
        _binding.Handshaken(session, message, context);
        var reply = new BayeuxReply(MetaChannels.Handshake, message)
        {
            Successful = true,
            ClientId = session.Id,
            IncludeHandshakeFields = true,
            Advice = _handshakeAdvice,
            Ext = new JsonObject { ["halley"] = new JsonObject { ["token"] = session.Token } },
        };
        // The extensions see the reply before a socket starts carrying the session: the ack extension turns itself
        // on there, and a session using ack must never be pushed to.
        Reply(replies, reply, message, session, receivedAt);
        context.Carrier?.SessionUsed(session);
    }

    private PendingConnect? BeginConnect(BayeuxMessage message, BayeuxSession session, long receivedAt, List<BayeuxReply> replies)
    {
        if (message.ConnectionType is { } type && !ConnectionTypes.IsSupported(type))
        {
            Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.ConnectionTypeMismatch(type)), message, session, receivedAt);
            return null;
        }
        var serverTimeout = (long)_options.Timeout.TotalMilliseconds;
        // An eventsource connect is never held: its events go down the session's stream.
        var eventSource = message.ConnectionType == ConnectionTypes.EventSource;
        var timeout = eventSource ? 0 : Math.Min(message.AdviceTimeout ?? serverTimeout, serverTimeout);
        // Held no longer than the session's token allows: its client hears in time to refresh, or of the expiry.
        var held = session.BeginConnect(
            Math.Min(receivedAt + _sessions.ToTicks(TimeSpan.FromMilliseconds(timeout)), _authentication.HoldLimit(session, receivedAt)),
            replyNow: timeout == 0,
            expiryGrace: eventSource ? _eventSourceGrace : 0,
            polling: message.ConnectionType is ConnectionTypes.LongPolling or ConnectionTypes.CallbackPolling or ConnectionTypes.CrossOriginLongPolling);
        if (held is null)
        {
            Reply(replies, BayeuxReply.Failure(message, BayeuxErrors.SessionUnknown, Advice.Handshake), message, session, receivedAt);
            return null;
        }
        return new PendingConnect(message, session, held, receivedAt);
    }

    /// <summary>Runs the outgoing extensions on <paramref name="reply"/> and adds it: every reply goes out this way.</summary>
    private void Reply(List<BayeuxReply> replies, BayeuxReply reply, BayeuxMessage message, BayeuxSession? session, long receivedAt)
    {
        _extensions.Send(reply, message, session, receivedAt);
        replies.Add(reply);
    }
}
