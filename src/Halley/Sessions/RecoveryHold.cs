using Halley.Channels;
using Halley.Engine;

namespace Halley.Sessions;

/// <summary>
/// The live messages a subscriber holds aside while a recovery reads history (<see cref="IRecoveringSubscriber"/>),
/// so they go out after the replay: part of an <see cref="Outbox"/>, which counts them against its bound. Not
/// thread-safe: the outbox calls it under its lock.
/// </summary>
internal sealed class RecoveryHold
{
    // The keys of every recovery in progress (a key twice when two recoveries hold it).
    private readonly List<string> _keys = [];
    private readonly List<EncodedMessage> _held = [];

    /// <summary>Messages held aside now; they count against the owner's queue bound.</summary>
    public int Count => _held.Count;

    /// <summary>Whether no recovery is in progress and nothing is held: the owner may let go of it.</summary>
    public bool IsIdle => _keys.Count == 0 && _held.Count == 0;

    public void Begin(IReadOnlyList<string> keys) => _keys.AddRange(keys);

    /// <summary>Holds <paramref name="message"/> aside if a recovery in progress covers its channel.</summary>
    public bool TryHold(EncodedMessage message)
    {
        if (_keys.Count == 0 || !Covers(message.Channel))
        {
            return false;
        }
        _held.Add(message);
        return true;
    }

    /// <summary>Lets go of the oldest message held aside (the queue-full policy <see cref="QueueFullPolicy.DropOldest"/>); false when none is.</summary>
    public bool DropOldest()
    {
        if (_held.Count == 0)
        {
            return false;
        }
        _held.RemoveAt(0);
        return true;
    }

    /// <summary>
    /// Ends the recovery of <paramref name="keys"/>: adds to <paramref name="released"/>, in order, the messages held
    /// aside that no other recovery in progress still covers.
    /// </summary>
    public void End(IReadOnlyList<string> keys, List<EncodedMessage> released)
    {
        foreach (var key in keys)
        {
            _keys.Remove(key);
        }
        if (_keys.Count == 0)
        {
            released.AddRange(_held);
            _held.Clear();
            return;
        }
        // Another recovery holds some channels: their messages stay, in order; channels are disjoint between what
        // is released and what stays, so no channel's order changes.
        _held.RemoveAll(message =>
        {
            if (Covers(message.Channel))
            {
                return false;
            }
            released.Add(message);
            return true;
        });
    }

    public void Clear()
    {
        _keys.Clear();
        _held.Clear();
    }

    private bool Covers(string channel)
    {
        foreach (var key in _keys)
        {
            if (ChannelName.Matches(key, channel))
            {
                return true;
            }
        }
        return false;
    }
}
