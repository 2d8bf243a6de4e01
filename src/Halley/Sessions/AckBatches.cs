using Halley.Engine;

namespace Halley.Sessions;

/// <summary>
/// Server side of CometD's <c>ack</c> extension. Messages go out only in connect replies, each reply numbered
/// as a batch in <c>ext.ack</c>; the client's next connect echoes the last batch it received. Until then the
/// batch's messages are kept and sent again, in order, ahead of anything newer.
/// </summary>
internal sealed class AckBatches
{
    private readonly List<EncodedMessage> _unacknowledged = [];
    private long _lastBatch;

    /// <summary>Messages sent but not yet acknowledged; they count against the bound of the session's <see cref="Outbox"/>.</summary>
    public int Count => _unacknowledged.Count;

    public void Acknowledge(long batch)
    {
        // Every unacknowledged message belongs to the last batch (resends are renumbered), so an ack of it clears all.
        if (batch >= _lastBatch)
        {
            _unacknowledged.Clear();
        }
    }

    /// <summary>Drops the oldest unacknowledged message (the DropOldest queue policy).</summary>
    public void DropOldest() => _unacknowledged.RemoveAt(0);

    /// <summary>Builds the next batch: unacknowledged messages first, then the queue, which it empties. Returns its number.</summary>
    public long NextBatch(Queue<EncodedMessage> queue, List<EncodedMessage> events)
    {
        while (queue.TryDequeue(out var message))
        {
            _unacknowledged.Add(message);
        }
        events.AddRange(_unacknowledged);
        return ++_lastBatch;
    }
}
