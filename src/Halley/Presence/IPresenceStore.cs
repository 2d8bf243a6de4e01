namespace Halley.Presence;

/// <summary>
/// Who is subscribed to which channel: the members of a channel (the client ids of the Bayeux sessions subscribed to
/// its exact name) and the channels that have members, served by <c>GET /api/presence</c> and <c>GET /api/channels</c>.
/// The node tells the store of each subscription to and from an exact channel name; the store answers for this node
/// (<see cref="LocalPresenceStore"/>, the default) or for the whole cluster (the Redis engine's, with expiry so a
/// crashed node's members disappear).
/// </summary>
public interface IPresenceStore
{
    /// <summary>Records that <paramref name="member"/> subscribed to <paramref name="channel"/> on this node. Must not block: called on the subscribe path.</summary>
    void Joined(string channel, string member);

    /// <summary>Records that <paramref name="member"/> left <paramref name="channel"/> on this node (unsubscribed, or its session ended). Must not block.</summary>
    void Left(string channel, string member);

    /// <summary>The members of <paramref name="channel"/>, at most <paramref name="limit"/> of them, and how many there are.</summary>
    ValueTask<PresenceList> MembersAsync(string channel, int limit, CancellationToken cancellationToken);

    /// <summary>The channels with members that <paramref name="pattern"/> matches (all when null), at most <paramref name="limit"/>, in name order.</summary>
    ValueTask<IReadOnlyList<ChannelPresence>> ChannelsAsync(string? pattern, int limit, CancellationToken cancellationToken);
}

/// <summary>Some members of a channel and how many it has in all.</summary>
/// <param name="Members">Client ids, at most the limit asked for, in name order.</param>
/// <param name="Count">How many members the channel has.</param>
public sealed record PresenceList(IReadOnlyList<string> Members, long Count);

/// <summary>A channel with members.</summary>
/// <param name="Channel">The channel's name.</param>
/// <param name="Members">How many members it has.</param>
public readonly record struct ChannelPresence(string Channel, long Members);
