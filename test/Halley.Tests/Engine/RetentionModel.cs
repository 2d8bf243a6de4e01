using Halley.Engine;

namespace Halley.Tests.Engine;

/// <summary>What a subscribe with a position should do: whether it recovers, and what it replays.</summary>
/// <param name="Recovered">True when nothing the client missed is gone, and all of it can come in order.</param>
/// <param name="Replay">Exactly the messages it missed, oldest first, when it recovers; none otherwise (never part of a gap).</param>
/// <param name="OutOfOrder">
/// True when it does not recover only because a held channel would replay messages older than one it already
/// delivered (nothing is gone, and the replay is within the limit): the case the order rule alone decides.
/// </param>
internal sealed record ExpectedRecovery(bool Recovered, IReadOnlyList<EncodedMessage> Replay, bool OutOfOrder = false);

/// <summary>
/// The retention rules as the documentation states them, kept apart from the engine's code: a channel keeps its
/// last Size messages, none older than its TTL; a recovery replays what the client missed, that is every retained
/// message after the position on the channels its keys reach, except those it already received through a key it
/// holds (after the point that key has its channels' messages from); it is complete only when every channel it
/// reaches keeps a history and none it needs anything of has let go of a message after the position; it is in
/// order only when no held channel it replays messages of has had a message after the point its held key has them
/// from (the client already has that newer one, so the replayed ones would come after it); a recovery that is not
/// complete, not in order, or would replay more than the limit, replays nothing.
/// </summary>
/// <remarks>
/// Two rules are the engine's documented simplifications, mirrored here on purpose. When the sweep removes a
/// history that let go of everything, the highest offset it let go of counts for every channel of its rule
/// (positions at or behind it no longer recover any key that reaches a channel of that rule). And a channel
/// counts as having lost something after the position whenever it let go of a message after it, even one the
/// client had received through a key it holds. Both only make recovery report false more often, never replay less.
/// </remarks>
internal sealed class RetentionModel(Func<string, int?> sizeOf, long ttlSeconds)
{
    private readonly record struct Kept(EncodedMessage Message, long Offset, long AddedAt);

    // Every message each channel's current history has been given, oldest first (cleared when the sweep removes it).
    private readonly Dictionary<string, List<Kept>> _given = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _removedThrough = new(StringComparer.Ordinal);

    /// <summary>Seconds since the start, advanced by the scenario.</summary>
    public long Now { get; private set; }

    public void Advance(int seconds) => Now += seconds;

    /// <summary>Notes a published message; messages of channels without a rule are not kept.</summary>
    public void Published(EncodedMessage message)
    {
        if (sizeOf(message.Channel) is null)
        {
            return;
        }
        var offset = message.Position?.Offset ?? throw new InvalidOperationException($"A message of {message.Channel}, which keeps a history, has no position.");
        if (!_given.TryGetValue(message.Channel, out var given))
        {
            _given[message.Channel] = given = [];
        }
        given.Add(new Kept(message, offset, Now));
    }

    /// <summary>The sweep: a history that let go of every message it was given is removed.</summary>
    public void Sweep()
    {
        foreach (var (channel, given) in _given)
        {
            if (given.Count > 0 && Retained(channel, given).Count == 0)
            {
                var rule = RecoveryWorld.RuleOf(channel)!;
                _removedThrough[rule] = Math.Max(_removedThrough.GetValueOrDefault(rule), given[^1].Offset);
                given.Clear();
            }
        }
    }

    /// <summary>
    /// What subscribing to <paramref name="keys"/> from <paramref name="since"/> should do, for a client that already
    /// holds <paramref name="held"/>: each key with the offset after which it has every message of its channels.
    /// </summary>
    public ExpectedRecovery Expect(IReadOnlyList<string> keys, IReadOnlyDictionary<string, long> held, StreamPosition? since, string epoch, long top, int maxRecovered)
    {
        if (since is not { } position || position.Epoch != epoch || position.Offset > top)
        {
            return new ExpectedRecovery(false, []);
        }
        var complete = keys.All(RecoveryWorld.Covers)
            && keys.SelectMany(RecoveryWorld.RulesReachedBy).All(rule => position.Offset >= _removedThrough.GetValueOrDefault(rule));
        var inOrder = true;
        var missed = new List<Kept>();
        foreach (var (channel, given) in _given)
        {
            if (!RecoveryWorld.MatchesAny(keys, channel))
            {
                continue;
            }
            // The client has the channel's messages after the earliest point a held key that matches it has them from.
            var receivedAfter = held.Where(h => RecoveryWorld.Matches(h.Key, channel)).Select(h => h.Value).DefaultIfEmpty(long.MaxValue).Min();
            var retained = Retained(channel, given);
            var letGo = given.Take(given.Count - retained.Count).ToList();
            if (receivedAfter > position.Offset)
            {
                complete &= letGo.All(k => k.Offset <= position.Offset);
            }
            var missedOn = retained.Where(k => k.Offset > position.Offset && k.Offset <= receivedAfter).ToList();
            // Whatever the channel has had after receivedAfter, the client received through its held key: the
            // missed ones would come after it. (given holds every message since the channel's history began; the
            // missed ones are among them, so no newer one is left out of it.)
            inOrder &= missedOn.Count == 0 || given.All(k => k.Offset <= receivedAfter);
            missed.AddRange(missedOn);
        }
        if (!complete || missed.Count > maxRecovered)
        {
            return new ExpectedRecovery(false, []);
        }
        if (!inOrder)
        {
            return new ExpectedRecovery(false, [], OutOfOrder: true);
        }
        return new ExpectedRecovery(true, [.. missed.OrderBy(k => k.Offset).Select(k => k.Message)]);
    }

    // What a channel still keeps: its last Size messages, minus those older than the TTL (both let go of the
    // oldest first, so what is kept is always the newest few).
    private List<Kept> Retained(string channel, List<Kept> given)
    {
        var size = sizeOf(channel)!.Value;
        return [.. given.Skip(Math.Max(0, given.Count - size)).Where(k => Now - k.AddedAt < ttlSeconds)];
    }
}
