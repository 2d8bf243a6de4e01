namespace Halley.Channels;

/// <summary>What a valid channel name is used for.</summary>
public enum ChannelKind
{
    /// <summary>An ordinary broadcast channel such as <c>/chat/room1</c>.</summary>
    Broadcast,

    /// <summary>A <c>/meta/**</c> channel: protocol only, never broadcast.</summary>
    Meta,

    /// <summary>A <c>/service/**</c> channel: request/response with the server, never broadcast.</summary>
    Service,
}
