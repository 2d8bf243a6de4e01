namespace Halley.Protocol;

/// <summary>What <see cref="BayeuxCodec.TryParseBatch(ReadOnlyMemory{byte}, BatchLimits, out List{BayeuxMessage})"/> accepts in one batch.</summary>
/// <param name="MaxMessages">Most messages; more refuses the whole batch (<see cref="BatchParseError.TooManyMessages"/>).</param>
/// <param name="MaxMessageSize">Bytes of one message object; a larger one is refused alone (<c>413::message_too_large</c>).</param>
/// <param name="MaxDepth">Deepest nesting of arrays and objects, the batch's array included; deeper refuses the batch (<see cref="BatchParseError.TooDeep"/>).</param>
internal readonly record struct BatchLimits(int MaxMessages, int MaxMessageSize, int MaxDepth)
{
    /// <summary>The defaults of <c>Halley:Limits</c>.</summary>
    public static BatchLimits Default { get; } = new(256, 64 * 1024, 64);
}
