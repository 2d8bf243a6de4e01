namespace Halley.LoadTest.Protocols;

/// <summary>
/// One push server's client protocol, as the load generator drives it. Every server under test (Halley,
/// Faye, SignalR, a plain Kestrel WebSocket loop) gets one implementation, so every scenario runs the same
/// load against each. Implementations keep per-connection state minimal: tens of thousands of connections
/// share one process.
/// </summary>
public interface IPushProtocol
{
    /// <summary>Short name used on the command line and in results, e.g. <c>halley-ws</c>, <c>signalr</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Creates one subscriber connection to <paramref name="target"/>. <paramref name="onMessage"/> receives the
    /// raw UTF-8 JSON of each delivered message's payload (the published <c>data</c>), on the connection's
    /// receive loop: it must be quick and must not block. <paramref name="onFrame"/>, when given, is called once
    /// per frame that carried payloads (a WebSocket message, a long-poll's response body) with how many it carried,
    /// after they went to <paramref name="onMessage"/>: the server's batching, as the client sees it.
    /// </summary>
    IPushConnection CreateConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame = null);

    /// <summary>
    /// Creates a publisher over the protocol's own client (a Bayeux session, a SignalR hub connection; the plain
    /// loop has none and POSTs). One publisher may be used concurrently by many tasks.
    /// </summary>
    IPushPublisher CreatePublisher(Uri target);

    /// <summary>
    /// Creates a publisher that calls the server's backend HTTP publish endpoint, as a web application's backend
    /// would: one POST per publish on one keep-alive connection of its own. Callers await each publish before
    /// the next (<see cref="HttpPublisher"/>); several publishers make several concurrent backends.
    /// </summary>
    IPushPublisher CreateHttpPublisher(Uri target);
}

/// <summary>A subscriber connection.</summary>
public interface IPushConnection : IAsyncDisposable
{
    /// <summary>Opens the connection and completes the protocol's handshake.</summary>
    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Subscribes to <paramref name="channel"/> (e.g. <c>/room/7</c>) and completes once the server confirmed it.</summary>
    Task SubscribeAsync(string channel, CancellationToken cancellationToken);
}

/// <summary>Publishes messages into the server under test.</summary>
public interface IPushPublisher : IAsyncDisposable
{
    /// <summary>Publishes <paramref name="payloadJson"/> (a UTF-8 JSON value) to <paramref name="channel"/>; completes when the server accepted it.</summary>
    Task PublishAsync(string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken);
}
