namespace Halley.Engine;

/// <summary>Receives the messages an <see cref="IMessageEngine"/> hands to this node.</summary>
public interface IEngineListener
{
    /// <summary>
    /// Handles one message. Messages with a position arrive one at a time in position order; others may arrive
    /// concurrently. Must not block and must not throw.
    /// </summary>
    void OnMessage(EncodedMessage message);

    /// <summary>
    /// Says that messages of the channels <paramref name="keys"/> match may have been lost on their way to this node
    /// and could not be replayed from history (a cluster engine whose connection to its store dropped, or whose store
    /// lost its data): the node must tell the subscribers of those keys, so their clients resume from their last
    /// position and learn what was not recovered, rather than carry on past a silent gap. Called outside every lock of
    /// the engine, on any thread; must not block and must not throw. An engine that cannot lose messages never calls it.
    /// </summary>
    void OnMessagesLost(IReadOnlyList<string> keys) { }
}
