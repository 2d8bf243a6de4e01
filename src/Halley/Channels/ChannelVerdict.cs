namespace Halley.Channels;

/// <summary>Why <see cref="ChannelPolicy"/> refused a channel, or <see cref="Allowed"/>.</summary>
public enum ChannelVerdict
{
    /// <summary>The channel may be used as asked.</summary>
    Allowed,

    /// <summary>Not a valid name or pattern (see <see cref="ChannelName"/>).</summary>
    Invalid,

    /// <summary>A wildcard pattern where a concrete channel is needed (publishing).</summary>
    Wildcard,

    /// <summary>A <c>/meta/**</c> channel: protocol only, never subscribed to or published on.</summary>
    Meta,

    /// <summary>A <c>/service/**</c> channel where a broadcast channel is needed.</summary>
    Service,

    /// <summary>A broadcast channel where a <c>/service/**</c> channel is needed.</summary>
    NotService,
}
