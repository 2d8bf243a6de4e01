using Halley.Sessions;

namespace Halley.Transports.WebSockets;

/// <summary>
/// A connection's heartbeat and lifetime: when it last sent, when it must close, and how to ping it (when it
/// can be pinged). Registered with the shared sweep.
/// </summary>
internal sealed class WebSocketLiveness(LiveConnections connections, Func<CancellationToken, Task>? sendPing)
{
    // How long a client may take to answer the server's close frame before the socket is aborted.
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    public LiveClock Clock { get; } = connections.StartClock();

    public bool CanPing => sendPing is not null;

    /// <summary>The timestamp <paramref name="duration"/> from now.</summary>
    public long DeadlineIn(TimeSpan duration) => connections.Now + connections.ToTicks(duration);

    /// <summary>When a close frame sent now must have been answered.</summary>
    public long CloseDeadline() => connections.Now + connections.ToTicks(CloseHandshakeTimeout);

    public void Start(ILiveConnection connection) => connections.Add(connection);

    public void Stop(ILiveConnection connection) => connections.Remove(connection);

    /// <summary>The connection set a deadline outside the sweep: the sweep looks at it by then.</summary>
    public void DueBy(ILiveConnection connection, long deadline) => connections.DueBy(connection, deadline);

    /// <summary>Records a send: any frame keeps the connection alive as well as a ping would.</summary>
    public void Sent() => Clock.Sent(connections.Now);

    public async Task PingAsync(CancellationToken aborted)
    {
        try
        {
            await sendPing!(aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is closing; its read loop reports why.
        }
    }
}
