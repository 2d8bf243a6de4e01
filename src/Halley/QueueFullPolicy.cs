namespace Halley;

/// <summary>What to do when a session's outbound queue is full.</summary>
public enum QueueFullPolicy
{
    /// <summary>End the session: the client is told to handshake again, so it knows it lost messages. Nothing is dropped silently.</summary>
    Disconnect,

    /// <summary>Drop the oldest queued message to make room (for feeds where only the latest value matters).</summary>
    DropOldest,
}
