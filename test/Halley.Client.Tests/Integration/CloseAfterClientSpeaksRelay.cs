using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Halley.Client.Tests.Integration;

/// <summary>
/// A loopback relay for WebSocket connections that holds back each close frame the server sends until the client has
/// sent a text frame after the server's last data frame. At the end of a socket's lifetime the server answers the
/// held connect and then closes; through this relay the client's next connect always goes out on the closing socket
/// before the close reaches it, which is the order a busy machine produces now and then.
/// </summary>
public sealed class CloseAfterClientSpeaksRelay : IAsyncDisposable
{
    // A relay must never hang a test: past this, a held close goes on anyway.
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private int _heldCloses;

    public CloseAfterClientSpeaksRelay(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>How many close frames were held until the client spoke (not those released by the time limit).</summary>
    public int HeldCloses => Volatile.Read(ref _heldCloses);

    /// <summary>The same path as <paramref name="endpoint"/>, through this relay.</summary>
    public Uri Via(Uri endpoint) => new UriBuilder(endpoint) { Port = ((IPEndPoint)_listener.LocalEndpoint).Port }.Uri;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stopping.Token);
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

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

            var connection = new Connection();
            _ = PumpAsync(client, server, connection, fromServer: false);
            _ = PumpAsync(server, client, connection, fromServer: true);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, Connection connection, bool fromServer)
    {
        var pending = new byte[64 * 1024];
        var count = 0;
        var headDone = false;
        try
        {
            while (true)
            {
                if (count == pending.Length)
                {
                    Array.Resize(ref pending, pending.Length * 2);
                }

                var read = await from.ReceiveAsync(pending.AsMemory(count), SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    break;
                }

                count += read;
                var start = 0;
                if (!headDone)
                {
                    // The HTTP upgrade request or response goes through as it is.
                    var end = pending.AsSpan(0, count).IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        continue;
                    }

                    headDone = true;
                    start = end + 4;
                    await to.SendAsync(pending.AsMemory(0, start), SocketFlags.None, _stopping.Token);
                }

                while (FrameLength(pending.AsSpan(start, count - start)) is { } length)
                {
                    var opcode = pending[start] & 0x0F;
                    if (!fromServer && opcode == 1)
                    {
                        connection.ClientSpoke();
                    }
                    else if (fromServer && opcode == 8)
                    {
                        if (await connection.WaitForClientAsync(MaxHold))
                        {
                            Interlocked.Increment(ref _heldCloses);
                        }
                    }
                    else if (fromServer && opcode < 8)
                    {
                        connection.ServerSent(); // reset before forwarding: the client answers only what it received
                    }

                    await to.SendAsync(pending.AsMemory(start, length), SocketFlags.None, _stopping.Token);
                    start += length;
                }

                pending.AsSpan(start, count - start).CopyTo(pending);
                count -= start;
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away; the other is closed with the relay.
        }
    }

    /// <summary>The length of the complete WebSocket frame at the start of <paramref name="data"/>; null if it is not all there.</summary>
    private static int? FrameLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            return null;
        }

        var masked = (data[1] & 0x80) != 0;
        var length = (long)(data[1] & 0x7F);
        var header = 2;
        if (length == 126)
        {
            if (data.Length < 4)
            {
                return null;
            }

            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            header = 4;
        }
        else if (length == 127)
        {
            if (data.Length < 10)
            {
                return null;
            }

            length = (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            header = 10;
        }

        var total = header + (masked ? 4 : 0) + length;
        return data.Length >= total ? (int)total : null;
    }

    /// <summary>Whether the client has sent a text frame since the server's last data frame.</summary>
    private sealed class Connection
    {
        private TaskCompletionSource _spoke = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ServerSent() => Volatile.Write(ref _spoke, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void ClientSpoke() => Volatile.Read(ref _spoke).TrySetResult();

        public async Task<bool> WaitForClientAsync(TimeSpan limit)
        {
            try
            {
                await Volatile.Read(ref _spoke).Task.WaitAsync(limit);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }
}
