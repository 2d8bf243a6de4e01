namespace Halley.Engine;

/// <summary>What <see cref="IMessageEngine.ReadHistoryAsync"/> found.</summary>
/// <param name="Messages">The retained messages after the position, oldest first, at most the limit.</param>
/// <param name="Complete">
/// True when nothing after the position is lost: the position is of this epoch and not beyond the cursor, every
/// channel the keys can match keeps a history, and none let go of a message after the position that the reader needs.
/// </param>
/// <param name="Truncated">True when there were more messages than the limit.</param>
/// <param name="Through">The read holds every retained message through this position and none after it (the last message's position when truncated).</param>
public sealed record HistoryResult(IReadOnlyList<EncodedMessage> Messages, bool Complete, bool Truncated, StreamPosition Through);
