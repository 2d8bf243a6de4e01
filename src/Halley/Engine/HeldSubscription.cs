namespace Halley.Engine;

/// <summary>A subscription a subscriber holds, and from where it has received its channels' messages.</summary>
/// <param name="Key">The channel name or pattern.</param>
/// <param name="ReceivedAfter">
/// The offset after which the subscriber has received every message with history of the channels <paramref name="Key"/>
/// matches: the position the subscription took effect at, or the position it recovered from.
/// </param>
public readonly record struct HeldSubscription(string Key, long ReceivedAfter);
