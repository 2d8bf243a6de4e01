namespace Halley.Engine;

/// <summary>The outcome of <see cref="MessageHub.SubscribeAsync(IReadOnlyList{string}, ISubscriber, StreamPosition?, CancellationToken)"/>.</summary>
/// <param name="Recovered">True when every missed message was replayed; false when a position was not asked for, was from another epoch, fell outside retention, or the replay would not fit (the recovery limit, the room left in the subscriber's queue).</param>
/// <param name="Position">The position the subscription took effect at: the client is up to date to here.</param>
public readonly record struct Recovery(bool Recovered, StreamPosition Position);
