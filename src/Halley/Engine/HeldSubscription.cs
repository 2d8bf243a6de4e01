namespace Halley.Engine;

/// <summary>A subscription a subscriber holds, and from where it has received its channels' messages.</summary>
/// <param name="Key">The channel name or pattern.</param>
/// <param name="ReceivedAfter">
/// The offset after which the subscriber has received every message with history of the channels <paramref name="Key"/>
/// matches: the position the subscription took effect at, or the position it recovered from.
/// </param>
public readonly record struct HeldSubscription(string Key, long ReceivedAfter)
{
    /// <summary>
    /// The earliest <see cref="ReceivedAfter"/> of the <paramref name="held"/> subscriptions that match
    /// <paramref name="channel"/>: the subscriber has that channel's messages after it; <see cref="long.MaxValue"/>
    /// when none matches. How every engine bounds what a history read must replay of a held channel.
    /// </summary>
    public static long EarliestReceivedAfter(IReadOnlyList<HeldSubscription> held, string channel)
    {
        var receivedAfter = long.MaxValue;
        foreach (var subscription in held)
        {
            if (subscription.ReceivedAfter < receivedAfter && Channels.ChannelName.Matches(subscription.Key, channel))
            {
                receivedAfter = subscription.ReceivedAfter;
            }
        }
        return receivedAfter;
    }
}
