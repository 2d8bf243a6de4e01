namespace Halley.Engine;

/// <summary>Receives the messages an <see cref="IMessageEngine"/> hands to this node.</summary>
public interface IEngineListener
{
    /// <summary>
    /// Handles one message. Messages with a position arrive one at a time in position order; others may arrive
    /// concurrently. Must not block and must not throw.
    /// </summary>
    void OnMessage(EncodedMessage message);
}
