using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Halley.Channels;

/// <summary>
/// Which subscribers hold which channel names and patterns. Readers (publishes) never lock and never allocate:
/// <see cref="Get"/> returns a <see cref="SubscriberSnapshot{TSubscriber}"/> to iterate. Writers take one lock per
/// index; adding or removing a subscriber costs amortized O(1) however many the key has.
/// </summary>
/// <remarks>
/// <para>
/// A key with at most <see cref="SmallMax"/> subscribers is an exact immutable array, replaced on every change (at
/// most <see cref="SmallMax"/> references copied): no memory beyond the references, as every key was before issue 10.
/// </para>
/// <para>
/// A larger key is a slot array with tombstones. A subscriber is appended after the last used slot; a removed one's
/// slot is set to null and never reused in place, so a reader iterating the array sees each slot go at most from a
/// subscriber to null, and a subscriber that leaves and comes back during an iteration lands beyond the range that
/// iteration reads (it cannot be yielded twice). Tombstones are reclaimed by compaction, which copies the live
/// subscribers in order into a new array and publishes it: when the array is full (it also grows then, to 1.5 times
/// the live count), and when tombstones exceed half of the used slots (so an iteration reads at most twice as many slots
/// as there are subscribers). Each copy is paid for by the appends or removals since the previous one. A
/// subscriber's slot is found through an open-addressing table of slot numbers (4 bytes an entry, 4/3 entries a slot)
/// once the array reaches <see cref="TableFrom"/> slots, by a scan below that. Back at <see cref="SmallAgain"/>
/// subscribers a key becomes an exact array again.
/// </para>
/// <para>
/// Iteration order is the order of subscription, in both forms.
/// </para>
/// </remarks>
/// <typeparam name="TSubscriber">The subscriber type; compared by reference.</typeparam>
internal sealed class SubscriptionIndex<TSubscriber> where TSubscriber : class
{
    /// <summary>Most subscribers a key keeps as an exact immutable array.</summary>
    internal const int SmallMax = 32;

    /// <summary>A slot array left with this many subscribers becomes an exact array again (not at <see cref="SmallMax"/>, so a key hovering there does not convert on every change).</summary>
    internal const int SmallAgain = SmallMax / 2;

    /// <summary>Slot arrays this long or longer find a subscriber's slot through a table; shorter ones scan (fewer than this many references).</summary>
    internal const int TableFrom = 128;

    // Each value is a TSubscriber[] (exact) or a Slots.
    private readonly ConcurrentDictionary<string, object> _byKey = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();

    /// <summary>Number of distinct channel names and patterns with at least one subscriber.</summary>
    public int KeyCount => _byKey.Count;

    /// <summary>Adds <paramref name="subscriber"/> under <paramref name="key"/>; returns false if it was already there.</summary>
    public bool Add(string key, TSubscriber subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_writeLock)
        {
            if (!_byKey.TryGetValue(key, out var current))
            {
                _byKey[key] = new[] { subscriber };
                return true;
            }
            if (current is Slots slots)
            {
                if (slots.Find(subscriber, out var at) >= 0)
                {
                    return false;
                }
                if (slots.Length < slots.Items.Length)
                {
                    slots.Append(subscriber, at);
                }
                else
                {
                    // Full: compact and grow into a new array, then publish it.
                    var next = slots.CopyLive(CapacityFor(slots.Live));
                    next.Append(subscriber);
                    _byKey[key] = next;
                }
                return true;
            }
            var exact = Unsafe.As<TSubscriber[]>(current);
            if (IndexOf(exact, subscriber) >= 0)
            {
                return false;
            }
            if (exact.Length < SmallMax)
            {
                var bigger = new TSubscriber[exact.Length + 1];
                exact.CopyTo(bigger, 0);
                bigger[^1] = subscriber;
                _byKey[key] = bigger;
            }
            else
            {
                var large = new Slots(CapacityFor(SmallMax + 1));
                foreach (var held in exact)
                {
                    large.Append(held);
                }
                large.Append(subscriber);
                _byKey[key] = large;
            }
            return true;
        }
    }

    /// <summary>Removes <paramref name="subscriber"/> from <paramref name="key"/>; returns false if it was not there.</summary>
    public bool Remove(string key, TSubscriber subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_writeLock)
        {
            if (!_byKey.TryGetValue(key, out var current))
            {
                return false;
            }
            if (current is Slots slots)
            {
                var slot = slots.Find(subscriber, out var at);
                if (slot < 0)
                {
                    return false;
                }
                slots.RemoveAt(slot, at);
                if (slots.Live <= SmallAgain)
                {
                    _byKey[key] = slots.ToExact();
                }
                else if (slots.Length - slots.Live > slots.Length / 2)
                {
                    _byKey[key] = slots.CopyLive(CapacityFor(slots.Live));
                }
                return true;
            }
            var exact = Unsafe.As<TSubscriber[]>(current);
            var index = IndexOf(exact, subscriber);
            if (index < 0)
            {
                return false;
            }
            if (exact.Length == 1)
            {
                _byKey.TryRemove(key, out _);
            }
            else
            {
                var smaller = new TSubscriber[exact.Length - 1];
                Array.Copy(exact, 0, smaller, 0, index);
                Array.Copy(exact, index + 1, smaller, index, exact.Length - index - 1);
                _byKey[key] = smaller;
            }
            return true;
        }
    }

    /// <summary>The subscribers of exactly <paramref name="key"/>, to iterate without a lock (empty when none).</summary>
    public SubscriberSnapshot<TSubscriber> Get(string key)
    {
        if (!_byKey.TryGetValue(key, out var value))
        {
            return default;
        }
        if (value is Slots slots)
        {
            // The length first: it covers only slots written before it was (see Slots.Append).
            var length = Volatile.Read(ref slots.Length);
            return new SubscriberSnapshot<TSubscriber>(slots.Items, length, Volatile.Read(ref slots.Live));
        }
        var exact = Unsafe.As<TSubscriber[]>(value);
        return new SubscriberSnapshot<TSubscriber>(exact, exact.Length, exact.Length);
    }

    // Room for half as many appends as there are subscribers before the next copy: each copy is paid for by at least
    // live/2 appends or removals, and the slots stay within 1.5 times the subscribers while a key only grows (the
    // references cost 8 to 12 bytes a subscriber, against 8 for an exact array).
    private static int CapacityFor(int live) => live + live / 2 + 1;

    private static int IndexOf(TSubscriber[] subscribers, TSubscriber subscriber)
    {
        for (var i = 0; i < subscribers.Length; i++)
        {
            if (ReferenceEquals(subscribers[i], subscriber))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// One published slot array of a large key. <see cref="Items"/> and the table never change length; a new
    /// <see cref="Slots"/> replaces this one to grow or compact. Readers use only <see cref="Items"/>,
    /// <see cref="Length"/> and <see cref="Live"/>; the rest is the writers', under the index's lock.
    /// </summary>
    private sealed class Slots
    {
        /// <summary>The slots: [0, Length) used, null where a subscriber was removed; the rest not yet used.</summary>
        public readonly TSubscriber?[] Items;

        /// <summary>Slots used so far; only grows. Written after the slot it covers (read it with Volatile).</summary>
        public int Length;

        /// <summary>Subscribers held (non-null slots below Length).</summary>
        public int Live;

        // Open addressing with linear probing over slot numbers + 1 (0 = empty), 4/3 as long as Items, so at most
        // three quarters full (about 2.5 probes to find a subscriber, 8.5 to miss one at worst) at 4 bytes an entry:
        // 5.3 to 8 bytes a subscriber. Not a power of two (that would cost up to twice as much): a hash is mapped
        // onto it by a multiply and shift. Null below TableFrom, where Find scans.
        private readonly int[]? _table;

        public Slots(int capacity)
        {
            Items = new TSubscriber?[capacity];
            if (capacity >= TableFrom)
            {
                _table = new int[capacity + capacity / 3 + 1];
            }
        }

        /// <summary>
        /// The slot holding <paramref name="subscriber"/>, or -1. <paramref name="at"/> is where the probe stopped in
        /// the table (the subscriber's entry, or where it would go), for <see cref="Append"/> or <see cref="RemoveAt"/>
        /// to start from; -1 without a table.
        /// </summary>
        public int Find(TSubscriber subscriber, out int at)
        {
            var items = Items;
            if (_table is not { } table)
            {
                at = -1;
                for (var i = 0; i < Length; i++)
                {
                    if (ReferenceEquals(items[i], subscriber))
                    {
                        return i;
                    }
                }
                return -1;
            }
            for (at = Home(table, subscriber); ; at = Next(table, at))
            {
                var entry = table[at];
                if (entry == 0)
                {
                    return -1;
                }
                if (ReferenceEquals(items[entry - 1], subscriber))
                {
                    return entry - 1;
                }
            }
        }

        /// <summary>
        /// Puts <paramref name="subscriber"/> (not held) in the next unused slot (there must be one); <paramref name="at"/>
        /// is where <see cref="Find"/> stopped on this table, or -1 to probe here.
        /// </summary>
        public void Append(TSubscriber subscriber, int at = -1)
        {
            var slot = Length;
            Items[slot] = subscriber;
            if (_table is { } table)
            {
                if (at < 0)
                {
                    at = Home(table, subscriber);
                    while (table[at] != 0)
                    {
                        at = Next(table, at);
                    }
                }
                table[at] = slot + 1;
            }
            // Publishes the slot: a reader that reads the new length reads the subscriber in it.
            Volatile.Write(ref Length, slot + 1);
            Volatile.Write(ref Live, Live + 1);
        }

        /// <summary>Makes <paramref name="slot"/> (held) a tombstone; <paramref name="at"/> is its entry, as <see cref="Find"/> found it.</summary>
        public void RemoveAt(int slot, int at)
        {
            if (_table is { } table)
            {
                RemoveFromTable(table, at);
            }
            Items[slot] = null;
            Volatile.Write(ref Live, Live - 1);
        }

        /// <summary>A new slot array of <paramref name="capacity"/> holding the live subscribers in order, the rest unused.</summary>
        public Slots CopyLive(int capacity)
        {
            var next = new Slots(capacity);
            var items = Items;
            for (var i = 0; i < Length; i++)
            {
                if (items[i] is { } subscriber)
                {
                    next.Append(subscriber);
                }
            }
            return next;
        }

        /// <summary>The live subscribers in order, as an exact array.</summary>
        public TSubscriber[] ToExact()
        {
            var exact = new TSubscriber[Live];
            var n = 0;
            var items = Items;
            for (var i = 0; i < Length; i++)
            {
                if (items[i] is { } subscriber)
                {
                    exact[n++] = subscriber;
                }
            }
            return exact;
        }

        // Fibonacci hashing of the identity hash, mapped onto [0, table.Length) by its high bits (multiply and shift).
        private static int Home(int[] table, TSubscriber subscriber) =>
            (int)(((ulong)((uint)RuntimeHelpers.GetHashCode(subscriber) * 0x9E3779B9u) * (uint)table.Length) >> 32);

        private static int Next(int[] table, int at) => at + 1 == table.Length ? 0 : at + 1;

        private void RemoveFromTable(int[] table, int hole)
        {
            // Backward-shift deletion: move later entries of the probe run into the hole when their home is not in
            // (hole, at], so every entry stays reachable from its home without tombstones in the table.
            for (var at = Next(table, hole); table[at] != 0; at = Next(table, at))
            {
                var home = Home(table, Items[table[at] - 1]!);
                var stays = hole <= at ? hole < home && home <= at : hole < home || home <= at;
                if (!stays)
                {
                    table[hole] = table[at];
                    hole = at;
                }
            }
            table[hole] = 0;
        }
    }
}
