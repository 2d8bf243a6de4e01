namespace Halley.Engine;

/// <summary>Receives published messages whose channel matches one of its subscriptions.</summary>
public interface ISubscriber
{
    /// <summary>Queues <paramref name="message"/> for delivery. Must not block: called on the publisher's thread.</summary>
    void Deliver(EncodedMessage message);
}
