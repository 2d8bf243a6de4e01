namespace Halley.Engine;

/// <summary>The outcome of <see cref="MessageHub.ReadHistoryAsync"/>.</summary>
/// <param name="Messages">The retained messages, oldest first.</param>
/// <param name="Complete">Whether no message after the position asked for is lost (false when none was given).</param>
/// <param name="More">Whether more messages follow than the limit allowed.</param>
/// <param name="Next">Where to read on from: the last message's position when there are more, else the top.</param>
public sealed record HistoryPage(IReadOnlyList<EncodedMessage> Messages, bool Complete, bool More, StreamPosition Next);
