using Halley.Channels;
using Halley.Diagnostics;
using Halley.Protocol;

namespace Halley.Engine;

/// <summary>
/// The publish pipeline: encode once, hand the bytes to the broker, and on every node fan the same bytes out
/// to the local subscribers whose names or patterns match.
/// </summary>
public sealed class MessageEngine
{
    private readonly IBroker _broker;
    private readonly SubscriptionIndex<ISubscriber> _index = new();
    private readonly HalleyMetrics _metrics;
    private readonly string[] _lazyChannels;

    [ThreadStatic]
    private static HashSet<ISubscriber>? t_seen;

    /// <summary>Creates the engine over <paramref name="broker"/>.</summary>
    public MessageEngine(IBroker broker, HalleyMetrics metrics, Microsoft.Extensions.Options.IOptions<HalleyOptions> options)
    {
        _broker = broker;
        _metrics = metrics;
        _lazyChannels = [.. options.Value.LazyChannels];
        _broker.SetHandler(DeliverLocally);
    }

    /// <summary>Number of distinct channel names and patterns with local subscribers.</summary>
    public int SubscribedKeyCount => _index.KeyCount;

    /// <summary>Subscribes <paramref name="subscriber"/> to a channel name or pattern (assumed valid).</summary>
    public bool Subscribe(string channelOrPattern, ISubscriber subscriber) => _index.Add(channelOrPattern, subscriber);

    /// <summary>Removes one subscription.</summary>
    public bool Unsubscribe(string channelOrPattern, ISubscriber subscriber) => _index.Remove(channelOrPattern, subscriber);

    /// <summary>
    /// Publishes raw JSON <paramref name="dataJson"/> to the concrete broadcast <paramref name="channel"/>.
    /// </summary>
    /// <param name="channel">A valid, non-wildcard broadcast channel.</param>
    /// <param name="dataJson">The <c>data</c> value as UTF-8 JSON.</param>
    /// <param name="idJson">The publisher's message id as a raw JSON token, or empty.</param>
    /// <param name="cancellationToken">Cancels waiting for the broker.</param>
    public async ValueTask<EncodedMessage> PublishAsync(string channel, ReadOnlyMemory<byte> dataJson, ReadOnlyMemory<byte> idJson, CancellationToken cancellationToken)
    {
        var encoded = EncodedMessage.FromFrame(channel, BayeuxCodec.EncodeEventFrame(channel, dataJson.Span, idJson.Span));
        _metrics.Published();
        await _broker.PublishAsync(encoded, cancellationToken).ConfigureAwait(false);
        return encoded;
    }

    private void DeliverLocally(EncodedMessage message)
    {
        message.IsLazy = IsLazy(message.Channel);
        var keys = ChannelName.MatchingKeys(message.Channel);
        ISubscriber[]? only = null;
        var nonEmpty = 0;
        foreach (var key in keys)
        {
            var subscribers = _index.Get(key);
            if (subscribers.Length > 0)
            {
                only = subscribers;
                nonEmpty++;
            }
        }
        if (nonEmpty == 0)
        {
            return;
        }
        var delivered = 0;
        if (nonEmpty == 1)
        {
            // The common case: one name or pattern matches, so no subscriber can appear twice.
            foreach (var subscriber in only!)
            {
                subscriber.Deliver(message);
            }
            delivered = only.Length;
        }
        else
        {
            // A client subscribed to both /a/b and /a/** still receives the message once. The set is reused
            // per thread (taken out while in use), so a steady fan-out allocates nothing per subscriber.
            var seen = t_seen ?? new HashSet<ISubscriber>(ReferenceEqualityComparer.Instance);
            t_seen = null;
            try
            {
                foreach (var key in keys)
                {
                    foreach (var subscriber in _index.Get(key))
                    {
                        if (seen.Add(subscriber))
                        {
                            subscriber.Deliver(message);
                            delivered++;
                        }
                    }
                }
            }
            finally
            {
                seen.Clear();
                t_seen = seen;
            }
        }
        _metrics.Delivered(delivered);
    }

    private bool IsLazy(string channel)
    {
        foreach (var pattern in _lazyChannels)
        {
            if (ChannelName.Matches(pattern, channel))
            {
                return true;
            }
        }
        return false;
    }
}
