namespace Halley.Engine;

/// <summary>Receives published messages whose channel matches one of its subscriptions.</summary>
public interface ISubscriber
{
    /// <summary>Queues <paramref name="message"/> for delivery. Must not block: called on the publisher's thread.</summary>
    void Deliver(EncodedMessage message);

    /// <summary>
    /// Messages of one of the subscriber's channels were lost on their way to this node and history could not
    /// replay them (<see cref="IEngineListener.OnMessagesLost"/>). A subscriber whose client can resume ends its
    /// delivery, so the client comes back from its last position and is told what could not be recovered. Must not
    /// block: called on the engine's thread.
    /// </summary>
    void MessagesLost() { }

    /// <summary>Who the subscriber is in a channel's presence (<c>/api/presence</c>): a Bayeux session's client id; null to be left out.</summary>
    string? PresenceId => null;
}
