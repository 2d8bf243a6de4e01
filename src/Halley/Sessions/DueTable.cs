namespace Halley.Sessions;

/// <summary>
/// When each item of the node (a session, a live connection) may next fall due, one <see langword="long"/> per item
/// in contiguous chunks, so the shared sweep reads a few megabytes in order instead of visiting every item's object
/// (and, for sessions, its lock): at 250,000 items the scan is 2 MB of sequential reads, and only the items whose
/// time has come are touched.
/// </summary>
/// <remarks>
/// <para>A slot holds a lower bound, never later than the item's earliest deadline. The item lowers it whenever it
/// sets an earlier deadline (<see cref="DueSlot.Lower"/>), and the sweep replaces it with the next deadline after
/// looking at the item; a deadline that moves later (a connection that sent, so its heartbeat is not due) leaves the
/// bound early, which costs one extra look, never a missed deadline.</para>
/// <para>Chunks are never moved or shrunk, so an item writes its slot without taking the table's lock. A slot is
/// reused after its item leaves; a late write by the old item can only lower the new one's bound (an extra look).</para>
/// </remarks>
/// <typeparam name="T">What the table times.</typeparam>
internal sealed class DueTable<T>
    where T : class
{
    private readonly Lock _lock = new();
    private readonly List<long[]> _due = [];
    private readonly List<T?[]> _items = [];
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

    /// <summary>Gives <paramref name="item"/> a slot whose bound is <paramref name="dueAt"/>.</summary>
    public DueSlot Add(T item, long dueAt)
    {
        lock (_lock)
        {
            if (!_free.TryPop(out var index))
            {
                index = _used++;
                if ((index >> DueSlot.ChunkBits) == _due.Count)
                {
                    _due.Add(new long[DueSlot.ChunkSize]);
                    _items.Add(new T?[DueSlot.ChunkSize]);
                }
            }
            var chunk = _due[index >> DueSlot.ChunkBits];
            Volatile.Write(ref chunk[index & DueSlot.ChunkMask], dueAt);
            _items[index >> DueSlot.ChunkBits][index & DueSlot.ChunkMask] = item;
            return new DueSlot(chunk, index);
        }
    }

    /// <summary>Frees <paramref name="slot"/> (its item left).</summary>
    public void Remove(DueSlot slot)
    {
        lock (_lock)
        {
            var items = _items[slot.Index >> DueSlot.ChunkBits];
            var offset = slot.Index & DueSlot.ChunkMask;
            if (items[offset] is null)
            {
                return;
            }
            items[offset] = null;
            Volatile.Write(ref _due[slot.Index >> DueSlot.ChunkBits][offset], long.MaxValue);
            _free.Push(slot.Index);
        }
    }

    /// <summary>
    /// Adds to <paramref name="due"/> every item whose bound is at or before <paramref name="now"/>, with its slot and
    /// the bound seen (for <see cref="DueSlot.TryReplace"/>).
    /// </summary>
    public void CollectDue(long now, List<(T Item, DueSlot Slot, long Seen)> due)
    {
        lock (_lock)
        {
            for (var c = 0; c < _due.Count; c++)
            {
                var times = _due[c];
                var items = _items[c];
                var end = Math.Min(DueSlot.ChunkSize, _used - (c << DueSlot.ChunkBits));
                for (var i = 0; i < end; i++)
                {
                    var seen = Volatile.Read(ref times[i]);
                    if (seen <= now && items[i] is { } item)
                    {
                        due.Add((item, new DueSlot(times, (c << DueSlot.ChunkBits) + i), seen));
                    }
                }
            }
        }
    }
}

/// <summary>An item's slot in a <see cref="DueTable{T}"/>: where the bound of its next deadline is written.</summary>
internal readonly struct DueSlot
{
    internal const int ChunkBits = 12;
    internal const int ChunkSize = 1 << ChunkBits;
    internal const int ChunkMask = ChunkSize - 1;

    private readonly long[]? _chunk;

    internal DueSlot(long[] chunk, int index)
    {
        _chunk = chunk;
        Index = index;
    }

    /// <summary>The slot's number in the table.</summary>
    public int Index { get; }

    /// <summary>Whether this is a slot of a table (the default value is not).</summary>
    public bool IsAssigned => _chunk is not null;

    /// <summary>Lowers the bound to <paramref name="dueAt"/> if that is earlier; safe against concurrent writers.</summary>
    public void Lower(long dueAt)
    {
        if (_chunk is null)
        {
            return;
        }
        ref var bound = ref _chunk[Index & ChunkMask];
        long current;
        while (dueAt < (current = Volatile.Read(ref bound)) && Interlocked.CompareExchange(ref bound, dueAt, current) != current)
        {
            // Another writer moved it in between: look again.
        }
    }

    /// <summary>Sets the bound to <paramref name="dueAt"/>; only for an item whose every writer holds one lock, held now.</summary>
    public void Set(long dueAt)
    {
        if (_chunk is not null)
        {
            Volatile.Write(ref _chunk[Index & ChunkMask], dueAt);
        }
    }

    /// <summary>
    /// Sets the bound to <paramref name="next"/> unless it changed since the sweep saw <paramref name="seen"/> (an
    /// item lowered it meanwhile: that earlier bound stays).
    /// </summary>
    public bool TryReplace(long seen, long next) =>
        _chunk is not null && Interlocked.CompareExchange(ref _chunk[Index & ChunkMask], next, seen) == seen;
}
