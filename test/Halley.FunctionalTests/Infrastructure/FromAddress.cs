using System.Net;
using System.Net.Sockets;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>
/// HTTP handlers whose connections leave from a chosen loopback address (127.0.0.2, 127.0.0.3…: every 127/8 address is
/// the loopback on Linux), so a test can be two different clients of per-address limits on one machine.
/// </summary>
public static class FromAddress
{
    public static SocketsHttpHandler Handler(IPAddress from, CookieContainer? cookies = null) => new()
    {
        CookieContainer = cookies ?? new CookieContainer(),
        UseCookies = true,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>A raw TCP connection to the server from <paramref name="from"/>.</summary>
    public static async Task<TcpClient> TcpAsync(TestServer server, IPAddress? from = null)
    {
        var client = from is null ? new TcpClient(AddressFamily.InterNetwork) : new TcpClient(new IPEndPoint(from, 0));
        client.NoDelay = true;
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).Within();
        return client;
    }
}
