using System.Text.Json;
using System.Threading.Channels;
using Halley.Client.Internal;

namespace Halley.Client;

// Subscriptions and recovery: re-subscribing after a re-handshake from each subscription's last position, reading
// what the server sends (replies to their waiters, events with their positions) and dispatching events to handlers.
public sealed partial class BayeuxClient
{
    private async Task ResubscribeAsync(IClientTransport transport, CancellationToken cancellationToken)
    {
        IGrouping<string, BayeuxSubscription>[] channels;
        string clientId;
        lock (_gate)
        {
            channels = [.. _subscriptions.GroupBy(s => s.Channel, StringComparer.Ordinal)];
            clientId = _clientId!;
        }

        foreach (var subscriptions in channels)
        {
            // One server subscription serves every local one on the channel: resume from the one furthest behind.
            var since = EarliestPosition(subscriptions);
            var reply = await SendRequestAsync(
                transport,
                SubscribeMessage(clientId, subscriptions.Key, since),
                _options.RequestTimeout,
                cancellationToken).ConfigureAwait(false);

            // A refusal now (say the channel became forbidden) has nobody to report to and must not stop the
            // others; only a lost session aborts, to handshake again.
            if (reply.MeansSessionLost)
            {
                throw new BayeuxException("The session was lost while re-subscribing.", reply.Error, "/meta/subscribe");
            }

            if (reply.Successful)
            {
                foreach (var subscription in subscriptions)
                {
                    subscription.OnSubscribed(reply, askedRecovery: since is not null, resubscribe: true);
                }
            }
        }
    }

    /// <summary>
    /// The position to resume a channel from, for the local subscriptions on it: the one received first, in the
    /// client's arrival order (positions themselves are opaque and never compared). Every event of the channel
    /// reaches each of them, so they differ only where one started later (its subscribe reply came after the other's
    /// last event): the earlier one is where the channel's server subscription really is.
    /// </summary>
    private static string? EarliestPosition(IEnumerable<BayeuxSubscription> subscriptions)
    {
        (string? Position, long Arrival)? earliest = null;
        foreach (var subscription in subscriptions)
        {
            var current = subscription.CurrentPosition;
            if (current.Position is null)
            {
                return null; // one of them has nothing to resume from: it starts fresh, and so must the channel
            }

            if (earliest is not { } e || current.Arrival < e.Arrival)
            {
                earliest = current;
            }
        }

        return earliest?.Position;
    }

    private OutboundMessage SubscribeMessage(string clientId, string channel, string? since) => new()
    {
        Channel = "/meta/subscribe",
        ClientId = clientId,
        Subscription = channel,
        Id = _pending.NextId(),
        Ext = since is not null ? JsonSerializer.SerializeToElement(new { halley = new { position = since } }) : null,
    };

    private void RemoveSubscription(BayeuxSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private void RaiseMetaReplyReceived(InboundMessage reply)
    {
        if (MetaReplyReceived is not { } handlers)
        {
            return;
        }

        try
        {
            handlers(this, new BayeuxMetaReplyEventArgs(reply.Json));
        }
#pragma warning disable CA1031 // Documented: a listener's bug must not stop the client reading from the server.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private async Task DispatchLoopAsync()
    {
        try
        {
            await foreach (var message in _events.Reader.ReadAllAsync(_disposing.Token).ConfigureAwait(false))
            {
                // Read the array once: a subscription added or removed now applies from the next message.
                foreach (var subscription in Volatile.Read(ref _subscriptions))
                {
                    if (!subscription.Pattern.Matches(message.Channel))
                    {
                        continue;
                    }

                    try
                    {
                        subscription.Deliver(message);
                    }
#pragma warning disable CA1031 // Documented: handler exceptions are ignored so delivery to others goes on.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async ValueTask OnMessagesAsync(IReadOnlyList<InboundMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var received in messages)
        {
            var message = received with { Arrival = Interlocked.Increment(ref _arrivals) };
            if (message.IsReply)
            {
                if (message.Channel is { } replyChannel && IsMeta(replyChannel))
                {
                    RaiseMetaReplyReceived(message);
                }

                // A reply nobody waits for is late (its request timed out or was abandoned with an old
                // session); even a 402 in it says nothing about the current session.
                _pending.TryComplete(message);

                continue;
            }

            var channel = message.Channel;
            if (channel is null || IsMeta(channel))
            {
                continue; // not an event; meta messages without "successful" carry nothing for handlers
            }

            // The position moves here, in arrival order and before the event waits for its handler, so a re-subscribe
            // resumes after every event already read (those still queued are handed on as they are).
            if (message.HalleyPosition is { } position)
            {
                foreach (var subscription in Volatile.Read(ref _subscriptions))
                {
                    if (subscription.IsActive && subscription.Pattern.Matches(channel))
                    {
                        subscription.Received(position, message.Arrival);
                    }
                }
            }

            var ext = message.Ext;
            var @event = new BayeuxMessage(channel, message.Data ?? default, message.Id, ext);
            try
            {
                await _events.Writer.WriteAsync(@event, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return; // disposed
            }
        }
    }
}
