using System.Collections.Concurrent;

namespace Halley.Channels;

/// <summary>
/// Which subscribers hold which channel names and patterns. Readers (publishes) never lock: each key maps to
/// an immutable array replaced on subscribe/unsubscribe, so a fan-out iterates a stable snapshot.
/// </summary>
/// <typeparam name="TSubscriber">The subscriber type; compared by reference.</typeparam>
internal sealed class SubscriptionIndex<TSubscriber> where TSubscriber : class
{
    private readonly ConcurrentDictionary<string, TSubscriber[]> _byKey = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();

    /// <summary>Number of distinct channel names and patterns with at least one subscriber.</summary>
    public int KeyCount => _byKey.Count;

    /// <summary>Adds <paramref name="subscriber"/> under <paramref name="key"/>; returns false if it was already there.</summary>
    public bool Add(string key, TSubscriber subscriber)
    {
        lock (_writeLock)
        {
            if (_byKey.TryGetValue(key, out var current))
            {
                if (Array.IndexOf(current, subscriber) >= 0)
                {
                    return false;
                }
                var next = new TSubscriber[current.Length + 1];
                current.CopyTo(next, 0);
                next[^1] = subscriber;
                _byKey[key] = next;
            }
            else
            {
                _byKey[key] = [subscriber];
            }
            return true;
        }
    }

    /// <summary>Removes <paramref name="subscriber"/> from <paramref name="key"/>; returns false if it was not there.</summary>
    public bool Remove(string key, TSubscriber subscriber)
    {
        lock (_writeLock)
        {
            if (!_byKey.TryGetValue(key, out var current))
            {
                return false;
            }
            var index = Array.IndexOf(current, subscriber);
            if (index < 0)
            {
                return false;
            }
            if (current.Length == 1)
            {
                _byKey.TryRemove(key, out _);
            }
            else
            {
                var next = new TSubscriber[current.Length - 1];
                Array.Copy(current, 0, next, 0, index);
                Array.Copy(current, index + 1, next, index, current.Length - index - 1);
                _byKey[key] = next;
            }
            return true;
        }
    }

    /// <summary>The subscribers of exactly <paramref name="key"/> (a snapshot; empty when none).</summary>
    public TSubscriber[] Get(string key) => _byKey.TryGetValue(key, out var subscribers) ? subscribers : [];
}
