namespace Halley.Sessions;

/// <summary>
/// When each session of the node may next fall due (its held connect's deadline, its expiry, its oldest lazy
/// message), one <see langword="long"/> per session in contiguous chunks, so the shared sweep reads a few megabytes
/// in order instead of visiting every session object and its lock: at 250,000 sessions the scan is 2 MB of sequential
/// reads, and only the sessions whose time has come are touched.
/// </summary>
/// <remarks>
/// <para>A slot holds a lower bound, never later than the session's earliest deadline. A session lowers it (under
/// its own lock) whenever it sets an earlier deadline, and sets it exactly when the sweep has looked at it under that
/// lock; a deadline that moves later leaves the bound early, which costs one extra look, never a missed deadline.</para>
/// <para>Chunks are never moved or shrunk, so a session writes its slot without taking the table's lock. A slot is
/// reused after its session ends; a late write by the old session can only lower the new one's bound (an extra
/// look).</para>
/// </remarks>
internal sealed class SweepTable
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly Lock _lock = new();
    private readonly List<long[]> _due = [];
    private readonly List<BayeuxSession?[]> _sessions = [];
    private readonly Stack<int> _free = new();
    private int _used;

    /// <summary>Slots in use (for tests and diagnostics).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _used - _free.Count;
            }
        }
    }

    /// <summary>Gives <paramref name="session"/> a slot whose bound is <paramref name="dueAt"/>.</summary>
    public SweepSlot Add(BayeuxSession session, long dueAt)
    {
        lock (_lock)
        {
            int index;
            if (!_free.TryPop(out index))
            {
                index = _used++;
                if ((index >> ChunkBits) == _due.Count)
                {
                    _due.Add(new long[ChunkSize]);
                    _sessions.Add(new BayeuxSession?[ChunkSize]);
                }
            }
            var chunk = _due[index >> ChunkBits];
            Volatile.Write(ref chunk[index & (ChunkSize - 1)], dueAt);
            _sessions[index >> ChunkBits][index & (ChunkSize - 1)] = session;
            return new SweepSlot(chunk, index);
        }
    }

    /// <summary>Frees <paramref name="slot"/> (the session ended).</summary>
    public void Remove(SweepSlot slot)
    {
        lock (_lock)
        {
            var sessions = _sessions[slot.Index >> ChunkBits];
            var offset = slot.Index & (ChunkSize - 1);
            if (sessions[offset] is null)
            {
                return;
            }
            sessions[offset] = null;
            Volatile.Write(ref _due[slot.Index >> ChunkBits][offset], long.MaxValue);
            _free.Push(slot.Index);
        }
    }

    /// <summary>Adds to <paramref name="due"/> every session whose bound is at or before <paramref name="now"/>.</summary>
    public void CollectDue(long now, List<BayeuxSession> due)
    {
        lock (_lock)
        {
            for (var c = 0; c < _due.Count; c++)
            {
                var times = _due[c];
                var sessions = _sessions[c];
                var end = Math.Min(ChunkSize, _used - (c << ChunkBits));
                for (var i = 0; i < end; i++)
                {
                    if (Volatile.Read(ref times[i]) <= now && sessions[i] is { } session)
                    {
                        due.Add(session);
                    }
                }
            }
        }
    }
}

/// <summary>A session's slot in the <see cref="SweepTable"/>: where it writes the bound of its next deadline.</summary>
internal readonly struct SweepSlot(long[] chunk, int index)
{
    private const int ChunkMask = (1 << 12) - 1;

    /// <summary>The slot's number in the table.</summary>
    public int Index { get; } = index;

    /// <summary>Whether this is a slot of a table (the default value is not).</summary>
    public bool IsAssigned => chunk is not null;

    /// <summary>Lowers the bound to <paramref name="dueAt"/> if that is earlier. Called under the session's lock.</summary>
    public void Lower(long dueAt)
    {
        if (chunk is not null && dueAt < Volatile.Read(ref chunk[Index & ChunkMask]))
        {
            Volatile.Write(ref chunk[Index & ChunkMask], dueAt);
        }
    }

    /// <summary>Sets the bound to <paramref name="dueAt"/>: the session has just been looked at under its lock.</summary>
    public void Set(long dueAt)
    {
        if (chunk is not null)
        {
            Volatile.Write(ref chunk[Index & ChunkMask], dueAt);
        }
    }
}
