namespace Halley.Engine;

/// <summary>
/// Carries encoded messages between the nodes of a cluster. The contract every broker keeps:
/// <list type="bullet">
/// <item>every message given to <see cref="PublishAsync"/> reaches the handler of every node exactly once,
/// the publishing node included;</item>
/// <item>messages of one channel published from one node reach each node in the order they were published;</item>
/// <item>a broker never inspects or re-encodes the bytes.</item>
/// </list>
/// <see cref="InMemoryBroker"/>, a single node, is the only implementation today; a broker spanning several
/// nodes (over Redis, issue 11) is planned and does not exist yet.
/// </summary>
public interface IBroker
{
    /// <summary>Sets the callback that receives every message from every node. Called once, before any publish.</summary>
    void SetHandler(Action<EncodedMessage> handler);

    /// <summary>Publishes <paramref name="message"/> to every node.</summary>
    ValueTask PublishAsync(EncodedMessage message, CancellationToken cancellationToken);
}

/// <summary>The single-node broker: a publish is handed straight to this node's handler.</summary>
public sealed class InMemoryBroker : IBroker
{
    private Action<EncodedMessage>? _handler;

    /// <inheritdoc />
    public void SetHandler(Action<EncodedMessage> handler)
    {
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
        {
            throw new InvalidOperationException("The broker handler is already set.");
        }
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(EncodedMessage message, CancellationToken cancellationToken)
    {
        var handler = _handler ?? throw new InvalidOperationException("The broker has no handler yet.");
        handler(message);
        return ValueTask.CompletedTask;
    }
}
