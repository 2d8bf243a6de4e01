using Halley.Channels;

namespace Halley.Presence;

/// <summary>
/// This node's presence, in memory: the default store on a single node, and what a cluster store publishes and
/// refreshes from. One lock over a map of channel → members; a subscribe holds it for one set operation.
/// </summary>
public sealed class LocalPresenceStore : IPresenceStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _members = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Joined(string channel, string member)
    {
        lock (_gate)
        {
            if (!_members.TryGetValue(channel, out var members))
            {
                _members[channel] = members = new HashSet<string>(StringComparer.Ordinal);
            }
            members.Add(member);
        }
    }

    /// <inheritdoc />
    public void Left(string channel, string member)
    {
        lock (_gate)
        {
            if (_members.TryGetValue(channel, out var members) && members.Remove(member) && members.Count == 0)
            {
                _members.Remove(channel);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<PresenceList> MembersAsync(string channel, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_members.TryGetValue(channel, out var members))
            {
                return ValueTask.FromResult(new PresenceList([], 0));
            }
            return ValueTask.FromResult(new PresenceList([.. members.Order(StringComparer.Ordinal).Take(limit)], members.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChannelPresence>> ChannelsAsync(string? pattern, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<ChannelPresence> channels = [.. _members
                .Where(entry => pattern is null || ChannelName.Matches(pattern, entry.Key))
                .Select(entry => new ChannelPresence(entry.Key, entry.Value.Count))
                .OrderBy(entry => entry.Channel, StringComparer.Ordinal)
                .Take(limit)];
            return ValueTask.FromResult(channels);
        }
    }

    /// <summary>Every channel with its members on this node, copied: what a cluster store refreshes.</summary>
    public List<(string Channel, string[] Members)> Snapshot()
    {
        lock (_gate)
        {
            return [.. _members.Select(entry => (entry.Key, entry.Value.ToArray()))];
        }
    }
}
