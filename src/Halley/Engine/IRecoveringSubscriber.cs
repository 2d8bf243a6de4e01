namespace Halley.Engine;

/// <summary>
/// A subscriber that adds subscriptions over time and queues what it receives in a bounded queue, such as a
/// Bayeux session. A recovery asks it what it already receives, so it replays only messages the subscriber never
/// got, and how much room its queue has left, so a replay never overflows it.
/// </summary>
/// <remarks>
/// <see cref="MessageEngine.Subscribe(IReadOnlyList{string}, ISubscriber, StreamPosition?)"/> calls these members
/// under the engine's sequencer lock, where no message of a channel with history is fanned out: what they say is
/// exact relative to the engine's sequence. They must not call back into the engine.
/// </remarks>
public interface IRecoveringSubscriber : ISubscriber
{
    /// <summary>How many more messages the subscriber's queue takes before it overflows (0 or less: none).</summary>
    int QueueRoom { get; }

    /// <summary>
    /// Adds to <paramref name="into"/> every subscription that is in effect (in the engine's index), with what it
    /// has received. A subscription being added but not yet in effect is left out.
    /// </summary>
    void CopyHeldSubscriptions(List<HeldSubscription> into);

    /// <summary>
    /// Records that <paramref name="keys"/> are in effect from now on, and that the subscriber has received every
    /// message of their channels with history after <paramref name="receivedAfter"/>.
    /// </summary>
    void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter);
}

/// <summary>A subscription a subscriber holds, and from where it has received its channels' messages.</summary>
/// <param name="Key">The channel name or pattern.</param>
/// <param name="ReceivedAfter">
/// The offset after which the subscriber has received every message with history of the channels <paramref name="Key"/>
/// matches: the engine's top when the subscription took effect, or the position it recovered from.
/// </param>
public readonly record struct HeldSubscription(string Key, long ReceivedAfter);
