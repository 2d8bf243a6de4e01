namespace Halley.Engine;

/// <summary>
/// The engine contract: what every implementation (the in-memory engine, the Redis engine) guarantees to the node
/// above it. The node (<see cref="MessageHub"/>) keeps local subscribers, fans messages out and runs recovery; the
/// engine gives messages their positions, keeps history and carries messages to every node that wants them.
/// </summary>
/// <remarks>
/// <para><b>Publish.</b> <see cref="PublishAsync"/> gives a message of a channel with a history rule its position,
/// appends it to the channel's history and makes it deliverable, atomically: no node is handed a message its history
/// lacks, and no history holds a message that will not be handed on. Per channel, positions increase in publish
/// order. Publishes to different channels do not wait for each other behind one lock.</para>
/// <para><b>Delivery.</b> The engine hands each message whose channel matches this node's declared interest to the
/// <see cref="IEngineListener"/> given to <see cref="Start"/>, once. Messages with a position are handed one at a
/// time, in position order (the node's order); messages without one (channels with no history rule) may be handed
/// concurrently, on the publisher's thread. The engine holds none of its locks while it calls the listener, so the
/// listener may call back into the engine.</para>
/// <para><b>Interest.</b> A node declares the channel names and patterns its local subscribers need, and withdraws
/// them; the engine hands it at least those channels' messages (a cluster engine hands it only those). Once
/// <see cref="DeclareInterestAsync"/> has completed, every message after <see cref="Cursor"/> that matches the
/// interest is handed to the listener.</para>
/// <para><b>History.</b> <see cref="ReadHistoryAsync"/> reads retained messages after a position, bounded, in
/// position order, over names and patterns, under the retention rules (size and age per channel pattern). A read is
/// a consistent prefix: it holds every retained message through the position it reports, none after it.</para>
/// <para><b>Positions</b> are opaque outside the engine: clients store the text and send it back; only the engine
/// and the node compare them. One position is a resume point for any set of channels and patterns, including
/// channels that first appear later (docs/recovery.md, "The position format"). <see cref="Epoch"/> changes when
/// history is lost, and a position of another epoch is never read as one of this one.</para>
/// <para><b>Idempotency.</b> A message with an <see cref="EncodedMessage.IdempotencyKey"/> that the engine saw
/// published within <see cref="ApiOptions.IdempotencyWindow"/> (on any node) is not published again:
/// <see cref="PublishAsync"/> marks it <see cref="EncodedMessage.IsDuplicate"/> and returns the first publish's
/// position, so a backend that retries after a timeout does not double a message.</para>
/// <para><b>Availability.</b> An engine whose store cannot be reached throws <see cref="EngineUnavailableException"/>,
/// which the node answers as "retry later", and may tell the node that messages were lost on their way to it
/// (<see cref="IEngineListener.OnMessagesLost"/>).</para>
/// <para>The same specification suite (test/Halley.Tests/Engine/MessageEngineSpecification.cs) runs against every
/// implementation.</para>
/// </remarks>
public interface IMessageEngine
{
    /// <summary>Names the current lifetime of the history: it changes whenever history is lost (a restart, a store that lost its sequence).</summary>
    string Epoch { get; }

    /// <summary>Whether any channel keeps a history (some retention rule is configured).</summary>
    bool HasHistory { get; }

    /// <summary>
    /// The node's cursor: the engine has handed this node, or passed over because the node had declared no interest
    /// in them, every message with a position at or before it. A message handed later has a position after it.
    /// </summary>
    StreamPosition Cursor { get; }

    /// <summary>Starts handing messages to <paramref name="listener"/>. Called once, before any publish or declaration.</summary>
    void Start(IEngineListener listener);

    /// <summary>
    /// Publishes <paramref name="message"/> (encoded once, see <see cref="EncodedMessage"/>) to its channel. For a
    /// channel with a history rule the message is given its position (<see cref="EncodedMessage.AssignPosition"/>)
    /// before any node is handed it, and the position is returned; otherwise null.
    /// </summary>
    /// <param name="message">The encoded event; its <see cref="EncodedMessage.Channel"/> is a concrete broadcast channel.</param>
    /// <param name="cancellationToken">Cancels waiting for the store; a publish that was already applied is not undone.</param>
    ValueTask<StreamPosition?> PublishAsync(EncodedMessage message, CancellationToken cancellationToken);

    /// <summary>Declares that this node's subscribers need the channels <paramref name="channelOrPattern"/> matches.</summary>
    ValueTask DeclareInterestAsync(string channelOrPattern, CancellationToken cancellationToken);

    /// <summary>Withdraws a declaration: this node no longer needs those channels (it may still be handed some).</summary>
    ValueTask WithdrawInterestAsync(string channelOrPattern, CancellationToken cancellationToken);

    /// <summary>Reads retained messages (see <see cref="HistoryQuery"/>). Never throws for a position of another epoch: the result is then not complete.</summary>
    ValueTask<HistoryResult> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// One pass of the node's shared sweep: lets go of messages the retention rules no longer keep. An engine whose
    /// store expires messages by itself does nothing.
    /// </summary>
    void Sweep();
}
