using Halley.Channels;

namespace Halley.Engine;

/// <summary>What a history read found: the messages after a position and whether any are missing.</summary>
/// <param name="Entries">The retained messages after the position, in offset order, at most the limit (none when an all-or-nothing read was not complete).</param>
/// <param name="Complete">
/// True when nothing after the position is lost: every channel the keys can match keeps a history, none the read
/// needs anything of has let go of a message after the position, and no history of a rule the keys reach was
/// removed after letting go of one.
/// </param>
/// <param name="Truncated">True when there were more messages than the limit.</param>
internal readonly record struct HistoryRead(List<HistoryEntry> Entries, bool Complete, bool Truncated);

/// <summary>
/// The in-memory engine's histories, one <see cref="ChannelHistory"/> per channel that has a rule and has had a
/// message. Thread-safe: each channel's history has its own lock (<see cref="ChannelHistory.Gate"/>), so channels
/// never wait for each other; a read takes each channel's lock in turn.
/// </summary>
internal sealed class HistoryStore(HistoryRules rules, TimeProvider time)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ChannelHistory> _byChannel = new(StringComparer.Ordinal);

    // Per rule (by ConfiguredRule.Index): the highest offset let go of by a history of that rule that expired
    // entirely and was removed. Per rule rather than per channel, so the memory is bounded by the configuration,
    // not by how many channels ever had a message; and per rule rather than one for the engine, so a short-lived
    // channel's removal does not fail the recoveries of channels its rule never applies to.
    private readonly long[] _removedThrough = new long[rules.Count];

    public bool IsEnabled => !rules.IsEmpty;

    /// <summary>Number of channels with retained messages.</summary>
    public int ChannelCount => _byChannel.Count;

    /// <summary>Number of retained messages over every channel.</summary>
    public long MessageCount => _byChannel.Values.Sum(h => { lock (h.Gate) { return (long)h.Count; } });

    /// <summary>The channel's rule, from the configuration alone: safe to call outside the engine's lock.</summary>
    public ConfiguredRule? RuleFor(string channel) => rules.For(channel);

    /// <summary>
    /// The history of <paramref name="channel"/>, created on its first message. The caller appends holding its
    /// <see cref="ChannelHistory.Gate"/>, and takes another one if it finds it <see cref="ChannelHistory.IsRemoved"/>.
    /// </summary>
    public ChannelHistory For(string channel, ConfiguredRule rule) =>
        _byChannel.TryGetValue(channel, out var history)
            ? history
            : _byChannel.GetOrAdd(channel, static (name, state) => new ChannelHistory(name, state.rule, state.ttl), (rule, ttl: ToTicks(rule.Rule.Ttl)));

    /// <summary>Lets go of a history marked <see cref="ChannelHistory.IsRemoved"/> (only that one: a newer history of the channel stays).</summary>
    public void Forget(ChannelHistory history) => _byChannel.TryRemove(new KeyValuePair<string, ChannelHistory>(history.Channel, history));

    /// <summary>Appends holding the channel's lock (<see cref="ChannelHistory.Gate"/>).</summary>
    public void Append(ChannelHistory history, long offset, EncodedMessage message) => history.Append(offset, time.GetTimestamp(), message);

    /// <summary>
    /// The retained messages after <paramref name="sinceOffset"/> on every channel one of <paramref name="keys"/>
    /// matches, except those the subscriber already received through one of <paramref name="held"/> (a message of a
    /// channel a held subscription matches, after that subscription's <see cref="HeldSubscription.ReceivedAfter"/>),
    /// at most <paramref name="limit"/>. With <paramref name="allOrNothing"/> a read that is incomplete or truncated
    /// returns no entries, so a recovery never replays part of a gap.
    /// </summary>
    public HistoryRead Read(IReadOnlyList<string> keys, IReadOnlyList<HeldSubscription> held, long sinceOffset, long throughOffset, int limit, bool allOrNothing)
    {
        var complete = true;
        foreach (var key in keys)
        {
            complete &= rules.Covers(key);
            foreach (var rule in rules.Reaching(key))
            {
                complete &= sinceOffset >= Volatile.Read(ref _removedThrough[rule.Index]);
            }
        }
        var entries = new List<HistoryEntry>();
        var now = time.GetTimestamp();
        var sources = 0;
        foreach (var history in Matching(keys))
        {
            // The subscriber already has this channel's messages after needThrough, the earliest ReceivedAfter of
            // the held subscriptions that match it (received live, or replayed by the recovery that made one): it
            // needs those after the position up to there. A subscription made afresh after the position has only
            // what followed it, so the messages before are replayed even though the channel is held.
            var needThrough = Math.Min(HeldSubscription.EarliestReceivedAfter(held, history.Channel), throughOffset);
            if (needThrough <= sinceOffset)
            {
                continue;
            }
            lock (history.Gate)
            {
                history.Expire(now);
                // Only the newest offset let go of is known: once it is past the position, a message the subscriber
                // needs may be gone, even if all it let go of came after needThrough (conservative: false more often).
                complete &= sinceOffset >= history.EvictedThrough;
                var before = entries.Count;
                history.CopyBetween(sinceOffset, needThrough, entries);
                // A held channel that already delivered messages after needThrough (up to the read's bound; later
                // ones reach a recovering subscriber after the replay) cannot take older ones in order: they would
                // arrive after newer ones. Not complete, so nothing is replayed and the client reloads instead.
                complete &= entries.Count == before || history.NewestAtOrBefore(throughOffset) <= needThrough;
            }
            sources++;
        }
        if (sources > 1)
        {
            // Each history is in offset order; several interleave. Offsets are unique, so the sort is exact.
            entries.Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
        }
        var truncated = entries.Count > limit;
        if (allOrNothing && (truncated || !complete))
        {
            entries.Clear();
        }
        else if (truncated)
        {
            entries.RemoveRange(limit, entries.Count - limit);
        }
        return new HistoryRead(entries, complete, truncated);
    }

    /// <summary>Lets go of expired messages, and of the histories left empty.</summary>
    public void Expire()
    {
        var now = time.GetTimestamp();
        List<ChannelHistory>? empty = null;
        foreach (var history in _byChannel.Values)
        {
            lock (history.Gate)
            {
                history.Expire(now);
                if (history.Count == 0)
                {
                    // Marked under the channel's lock: a publish that took this history before its removal appends to
                    // a new one instead of to one nobody reads.
                    history.IsRemoved = true;
                    (empty ??= []).Add(history);
                    RaiseRemovedThrough(history.Rule.Index, history.EvictedThrough);
                }
            }
        }
        if (empty is not null)
        {
            foreach (var history in empty)
            {
                Forget(history);
            }
        }
    }

    private void RaiseRemovedThrough(int rule, long offset)
    {
        ref var removed = ref _removedThrough[rule];
        var current = Volatile.Read(ref removed);
        while (offset > current)
        {
            var seen = Interlocked.CompareExchange(ref removed, offset, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    private IEnumerable<ChannelHistory> Matching(IReadOnlyList<string> keys)
    {
        var patterns = false;
        foreach (var key in keys)
        {
            patterns |= key.EndsWith('*');
        }
        if (!patterns)
        {
            // Names only: one lookup each, whatever the number of channels.
            foreach (var key in keys.Distinct(StringComparer.Ordinal))
            {
                if (_byChannel.TryGetValue(key, out var history))
                {
                    yield return history;
                }
            }
            yield break;
        }
        foreach (var history in _byChannel.Values)
        {
            if (ChannelName.MatchesAny(keys, history.Channel))
            {
                yield return history;
            }
        }
    }

    private long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * time.TimestampFrequency);
}
