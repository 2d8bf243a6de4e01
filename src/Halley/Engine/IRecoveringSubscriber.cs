namespace Halley.Engine;

/// <summary>
/// A subscriber that adds subscriptions over time and queues what it receives in a bounded queue, such as a
/// Bayeux session or a stream. A recovery asks it what it already receives, so it replays only messages the
/// subscriber never got, and how much room its queue has left, so a replay never overflows it; while the history is
/// read, it holds live messages of the recovering keys aside, so they go out after the replay.
/// </summary>
/// <remarks>
/// <see cref="MessageHub.SubscribeAsync(IReadOnlyList{string}, ISubscriber, StreamPosition?, CancellationToken)"/>
/// calls these members outside every lock of the hub and the engine; they must not call back into either.
/// </remarks>
public interface IRecoveringSubscriber : ISubscriber
{
    /// <summary>How many more messages the subscriber's queue takes before it overflows (0 or less: none).</summary>
    int QueueRoom { get; }

    /// <summary>
    /// Adds to <paramref name="into"/> every subscription that is in effect, with what it has received. A
    /// subscription being added but not yet in effect is left out.
    /// </summary>
    void CopyHeldSubscriptions(List<HeldSubscription> into);

    /// <summary>
    /// From now until <see cref="EndRecovery"/>, holds aside every delivered message of a channel one of
    /// <paramref name="keys"/> matches (they still count against the queue's bound).
    /// </summary>
    void BeginRecovery(IReadOnlyList<string> keys);

    /// <summary>
    /// Queues <paramref name="replay"/> (in order), then what was held aside for <paramref name="keys"/> since
    /// <see cref="BeginRecovery"/> (what another recovery still in progress also holds stays held), and stops holding for them.
    /// </summary>
    void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay);

    /// <summary>
    /// Records that <paramref name="keys"/> are in effect, and that the subscriber has received every message of
    /// their channels with history after <paramref name="receivedAfter"/>.
    /// </summary>
    void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter);
}
