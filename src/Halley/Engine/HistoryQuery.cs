namespace Halley.Engine;

/// <summary>What <see cref="IMessageEngine.ReadHistoryAsync"/> reads.</summary>
/// <param name="Keys">The channel names and patterns whose channels' messages are read.</param>
/// <param name="Since">The last position the reader saw: messages after it are read; null reads from the oldest retained one.</param>
/// <param name="Limit">Most messages returned: 1 or more.</param>
public sealed record HistoryQuery(IReadOnlyList<string> Keys, StreamPosition? Since, int Limit)
{
    /// <summary>
    /// Subscriptions the reader already holds: a message of a channel one of them matches, after its
    /// <see cref="HeldSubscription.ReceivedAfter"/>, was received through it and is left out.
    /// </summary>
    public IReadOnlyList<HeldSubscription> Held { get; init; } = [];

    /// <summary>Reads nothing after this position (inclusive bound); null: up to the newest.</summary>
    public StreamPosition? Through { get; init; }

    /// <summary>When the read is not complete or has more than <see cref="Limit"/> messages, return none (a recovery never replays part of a gap).</summary>
    public bool AllOrNothing { get; init; }
}
