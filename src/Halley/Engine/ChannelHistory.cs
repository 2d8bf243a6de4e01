namespace Halley.Engine;

/// <summary>One message kept in a channel's history.</summary>
/// <param name="Offset">Its offset in the engine's sequence.</param>
/// <param name="AddedAt">When it was kept, as a <see cref="TimeProvider"/> timestamp.</param>
/// <param name="Message">The encoded message, shared with every subscriber that received it.</param>
internal readonly record struct HistoryEntry(long Offset, long AddedAt, EncodedMessage Message);

/// <summary>
/// The retained messages of one channel, oldest first, bounded by its rule's size and age. Not thread-safe by
/// itself: every member is called holding <see cref="Gate"/>, the channel's own lock, so publishes to different
/// channels never wait for each other.
/// </summary>
internal sealed class ChannelHistory(string channel, ConfiguredRule rule, long ttlTicks)
{
    private readonly Queue<HistoryEntry> _entries = new();

    /// <summary>The channel's lock: taken for an append (with the sequence number), a read and an expiry.</summary>
    public Lock Gate { get; } = new();

    public string Channel { get; } = channel;

    public ConfiguredRule Rule { get; } = rule;

    /// <summary>The highest offset this history has let go of (0 if none): a client behind it cannot recover completely.</summary>
    public long EvictedThrough { get; private set; }

    public int Count => _entries.Count;

    /// <summary>The offset of the newest message ever appended (0 if none), kept or let go of since.</summary>
    public long NewestOffset { get; private set; }

    /// <summary>Set when the store let go of this history (empty and expired): an append must take a new one.</summary>
    public bool IsRemoved { get; set; }

    public void Append(long offset, long now, EncodedMessage message)
    {
        NewestOffset = offset;
        _entries.Enqueue(new HistoryEntry(offset, now, message));
        if (_entries.Count > Rule.Rule.Size)
        {
            EvictedThrough = _entries.Dequeue().Offset;
        }
    }

    /// <summary>Lets go of messages older than the rule's TTL.</summary>
    public void Expire(long now)
    {
        while (_entries.TryPeek(out var oldest) && now - oldest.AddedAt >= ttlTicks)
        {
            EvictedThrough = _entries.Dequeue().Offset;
        }
    }

    /// <summary>The offset of the newest message appended at or before <paramref name="throughOffset"/>, kept or let go of (0 if none).</summary>
    public long NewestAtOrBefore(long throughOffset)
    {
        if (NewestOffset <= throughOffset)
        {
            return NewestOffset;
        }
        var newest = EvictedThrough <= throughOffset ? EvictedThrough : 0;
        foreach (var entry in _entries)
        {
            if (entry.Offset > throughOffset)
            {
                break;
            }
            newest = entry.Offset;
        }
        return newest;
    }

    /// <summary>
    /// Adds the retained messages after <paramref name="sinceOffset"/> up to <paramref name="throughOffset"/>
    /// (inclusive) to <paramref name="into"/>, oldest first.
    /// </summary>
    public void CopyBetween(long sinceOffset, long throughOffset, List<HistoryEntry> into)
    {
        foreach (var entry in _entries)
        {
            if (entry.Offset > throughOffset)
            {
                return;
            }
            if (entry.Offset > sinceOffset)
            {
                into.Add(entry);
            }
        }
    }
}
