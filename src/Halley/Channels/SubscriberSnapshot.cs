namespace Halley.Channels;

/// <summary>
/// The subscribers of one channel name or pattern, as <see cref="SubscriptionIndex{TSubscriber}.Get"/> found them:
/// what a fan-out iterates, without a lock and without allocating. <c>default</c> is the empty snapshot.
/// </summary>
/// <remarks>
/// <para>
/// A snapshot is a range of slots of one published array: <see cref="Slots"/>, where a null slot is a tombstone (a
/// subscriber removed since the array was published). Writers may change that array while it is read, but only so:
/// a slot in the range holds the same subscriber from when the array was published or the subscriber was appended
/// until the subscriber is removed, when it turns null; a null slot in the range never turns non-null again; and a
/// subscriber never changes slot within one published array (growth and compaction copy into a new array, which a
/// later <see cref="SubscriptionIndex{TSubscriber}.Get"/> returns). So iterating a snapshot, whole or split into
/// slot ranges, yields every subscriber that was there for the whole iteration exactly once, and no subscriber twice;
/// one added or removed meanwhile may or may not be yielded.
/// </para>
/// <para>
/// A small key's snapshot is an exact immutable array (no tombstones, nothing changes); a large key's is the one
/// described above.
/// </para>
/// </remarks>
/// <typeparam name="TSubscriber">The subscriber type.</typeparam>
internal readonly struct SubscriberSnapshot<TSubscriber> where TSubscriber : class
{
    private readonly TSubscriber?[]? _slots;
    private readonly int _length;

    internal SubscriberSnapshot(TSubscriber?[] slots, int length, int count)
    {
        _slots = slots;
        _length = length;
        Count = count;
    }

    /// <summary>
    /// How many subscribers the key had when the snapshot was taken. While writers change the key, an iteration can
    /// yield a few more or fewer (those added or removed meanwhile); it is 0 only for a key with no subscriber.
    /// </summary>
    public int Count { get; }

    /// <summary>
    /// The raw slot range, for splitting a large fan-out into contiguous ranges (one per core): each non-null slot is
    /// a subscriber, a null one a tombstone to skip. Read each slot once, as <see cref="Enumerator"/> does; see the
    /// remarks for what concurrent writers may change. Never write to it.
    /// </summary>
    public ReadOnlyMemory<TSubscriber?> Slots => new(_slots, 0, _length);

    /// <summary>Iterates the subscribers, skipping tombstones; allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(_slots, _length);

    /// <summary>Iterates the live slots of a snapshot.</summary>
    public struct Enumerator
    {
        private readonly TSubscriber?[]? _slots;
        private readonly int _length;
        private int _index;
        private TSubscriber? _current;

        internal Enumerator(TSubscriber?[]? slots, int length)
        {
            _slots = slots;
            _length = length;
            _index = -1;
            _current = null;
        }

        /// <summary>The subscriber at the current slot.</summary>
        public readonly TSubscriber Current => _current!;

        /// <summary>Moves to the next slot that holds a subscriber; false past the end of the range.</summary>
        public bool MoveNext()
        {
            var slots = _slots;
            while (++_index < _length)
            {
                // One read per slot, into a local: a slot that turns null after the check is still yielded as read.
                var subscriber = slots![_index];
                if (subscriber is not null)
                {
                    _current = subscriber;
                    return true;
                }
            }
            _index = _length;
            return false;
        }
    }
}
