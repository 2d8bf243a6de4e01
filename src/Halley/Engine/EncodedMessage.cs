namespace Halley.Engine;

/// <summary>
/// A published message, encoded once as the UTF-8 JSON object every subscriber receives. Subscribers' queues
/// hold references to this one instance; nothing is copied per subscriber.
/// </summary>
public sealed class EncodedMessage
{
    /// <summary>Creates an encoded message.</summary>
    /// <param name="channel">The concrete channel it was published to.</param>
    /// <param name="json">The complete Bayeux event object, e.g. <c>{"channel":"/a","data":{…}}</c>.</param>
    public EncodedMessage(string channel, ReadOnlyMemory<byte> json)
    {
        Channel = channel;
        var frame = new byte[json.Length + 2];
        frame[0] = (byte)'[';
        json.Span.CopyTo(frame.AsSpan(1));
        frame[^1] = (byte)']';
        Frame = frame;
        Json = Frame[1..^1];
    }

    private EncodedMessage(string channel, byte[] frame)
    {
        Channel = channel;
        Frame = frame;
        Json = Frame[1..^1];
    }

    /// <summary>
    /// Wraps <paramref name="frame"/>, a one-element Bayeux array <c>[{…}]</c> holding an event with no <c>ext</c>,
    /// without copying it: how a publish, or an engine that carried the bytes from another node, makes a message.
    /// </summary>
    public static EncodedMessage FromFrame(string channel, byte[] frame) => new(channel, frame);

    /// <summary>The concrete channel it was published to.</summary>
    public string Channel { get; }

    /// <summary>The complete Bayeux event object as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Json { get; private set; }

    /// <summary>Where the message sits in its channel's history; null when the channel keeps none.</summary>
    public StreamPosition? Position { get; private set; }

    /// <summary>
    /// The publisher's idempotency key (<c>POST /api/publish</c>'s <c>Idempotency-Key</c> header), or null. An engine
    /// publishes a message whose key it saw published within <see cref="ApiOptions.IdempotencyWindow"/> not again: it
    /// marks it <see cref="IsDuplicate"/> instead, so a publish retried after a timeout is not doubled. Set before the
    /// message is published.
    /// </summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// Whether the engine found <see cref="IdempotencyKey"/> already published: the message was handed to no one, and
    /// <see cref="Position"/> is the first publish's, if it had one and the engine still knows it.
    /// </summary>
    public bool IsDuplicate { get; private set; }

    /// <summary>Marks the message as a repeat of the publish that had the same key, at <paramref name="position"/>. Called by the engine instead of publishing it.</summary>
    public void MarkDuplicateOf(StreamPosition? position)
    {
        IsDuplicate = true;
        Position = position;
    }

    /// <summary>
    /// The event as a whole Bayeux message array, <c>[{…}]</c>: a WebSocket that has just this event to send
    /// sends these shared bytes as they are, so a fan-out serializes nothing per subscriber.
    /// </summary>
    public ReadOnlyMemory<byte> Frame { get; private set; }

    /// <summary>
    /// Gives the message its history position, adding <c>"ext":{"halley":{"position":"…"}}</c> to the encoded
    /// event. Called once, by the engine, before any subscriber can see the message (an engine that carried the
    /// bytes from another node calls it with the position the publishing side assigned).
    /// </summary>
    public void AssignPosition(StreamPosition position)
    {
        // The event was encoded as {"channel","data"[,"id"]} with no ext: the field goes before the closing "}]".
        // One allocation, the new frame: the position is formatted on the stack, not through strings.
        ReadOnlySpan<byte> before = ",\"ext\":{\"halley\":{\"position\":\""u8;
        ReadOnlySpan<byte> after = "\"}}}]"u8;
        Span<byte> text = stackalloc byte[StreamPosition.MaxFormattedLength];
        var length = position.FormatUtf8(text);
        var old = Frame.Span[..^2];
        var frame = new byte[old.Length + before.Length + length + after.Length];
        var rest = frame.AsSpan();
        old.CopyTo(rest);
        rest = rest[old.Length..];
        before.CopyTo(rest);
        rest = rest[before.Length..];
        text[..length].CopyTo(rest);
        after.CopyTo(rest[length..]);
        Frame = frame;
        Json = Frame[1..^1];
        Position = position;
    }

    private byte[]? _streamPayload;

    /// <summary>
    /// The payload streamed to <c>/sse</c> and <c>/stream</c> subscribers, derived once per message on first use
    /// and shared by every stream (a race computes it twice and keeps one).
    /// </summary>
    internal byte[] GetOrAddStreamPayload(Func<EncodedMessage, byte[]> encode) =>
        Volatile.Read(ref _streamPayload) ?? Interlocked.CompareExchange(ref _streamPayload, encode(this), null) ?? _streamPayload!;

    /// <summary>
    /// Whether the channel is lazy on this node: queued without waking a held connect. Set once by the engine
    /// before fan-out, from the node's configuration, so the check costs one lookup per message, not per subscriber.
    /// </summary>
    public bool IsLazy { get; internal set; }

    private List<string>? _matchingKeys;

    /// <summary>
    /// The channel names and patterns that match the message's channel (<see cref="Channels.ChannelName.MatchingKeys"/>),
    /// derived once per message on first use and shared by the engine's interest check and the node's fan-out. The
    /// first use is the publish, on the publisher's thread: publishes run in parallel, the hand-on of positioned
    /// messages one at a time (a race computes it twice and keeps one).
    /// </summary>
    internal List<string> MatchingKeys =>
        Volatile.Read(ref _matchingKeys) ?? Interlocked.CompareExchange(ref _matchingKeys, Channels.ChannelName.MatchingKeys(Channel), null) ?? _matchingKeys!;
}
