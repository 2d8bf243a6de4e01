using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Halley.Client.Tests.Integration;

/// <summary>
/// A loopback TCP relay between client and server that a test can cut, to make a real connection drop
/// (a WebSocket or a held long-poll) while the server keeps running.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    // Per relayed connection: whether the client's bytes were the last to pass (a request awaits its answer).
    private readonly ConcurrentDictionary<Socket, bool> _awaitingAnswer = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    public TcpProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The same path and scheme as <paramref name="endpoint"/>, through this proxy.</summary>
    public Uri Via(Uri endpoint) => new UriBuilder(endpoint) { Port = Port }.Uri;

    public int ConnectionCount => _sockets.Count / 2;

    /// <summary>
    /// Waits until some relayed connection carries a request the server has not answered yet: a held long-poll.
    /// Dropping then is sure to fail a request the client is waiting on, so the client sees the drop.
    /// </summary>
    public async Task WaitForUnansweredRequestAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!_awaitingAnswer.Values.Any(awaiting => awaiting))
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    /// <summary>Resets every relayed connection (RST, like a network failure); new ones are still accepted.</summary>
    public void DropAll()
    {
        foreach (var socket in _sockets.Keys)
        {
            _sockets.TryRemove(socket, out _);
            _awaitingAnswer.TryRemove(socket, out _);
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }

            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        DropAll();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stopping.Token);
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_target, _stopping.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            _sockets[client] = 0;
            _sockets[server] = 0;
            _awaitingAnswer[client] = false;
            _ = PumpAsync(client, server, client, awaitingAfterSend: true);
            _ = PumpAsync(server, client, client, awaitingAfterSend: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, Socket clientSide, bool awaitingAfterSend)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    break;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
                _awaitingAnswer[clientSide] = awaitingAfterSend;
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away; DropAll or the peer closes the other.
        }
    }
}
