using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Halley.Transports.WebSockets;

namespace Halley.Tests.Transports.WebSockets;

/// <summary>
/// Text frames written straight into the pipe must be what a WebSocket client reads as text messages, at every
/// header size, and nothing may follow the server's close frame.
/// </summary>
public class DuplexPipeStreamTests
{
    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>A server stream over one pair of pipes and a client WebSocket over the other ends.</summary>
    private static (DuplexPipeStream Server, WebSocket ServerSocket, WebSocket Client) Connect()
    {
        var toClient = new Pipe();
        var toServer = new Pipe();
        var server = new DuplexPipeStream(new Duplex(toServer.Reader, toClient.Writer));
        var serverSocket = WebSocket.CreateFromStream(server, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var clientStream = new DuplexPipeStream(new Duplex(toClient.Reader, toServer.Writer));
        var client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return (server, serverSocket, client);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Bytes)> ReceiveAsync(WebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[70_000];
        var count = 0;
        while (true)
        {
            var result = await client.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            count += result.Count;
            if (result.EndOfMessage)
            {
                return (result.MessageType, buffer[..count]);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    public async Task ATextFrame_IsReadByAClient_AsOneTextMessage_AtEveryHeaderSize(int length)
    {
        var (server, _, client) = Connect();
        var payload = Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26))).ToArray();

        // Sent while the client reads: a frame larger than the pipe's pause threshold waits for the reader.
        var sending = Task.Run(async () =>
        {
            await server.SendTextAsync(payload, CancellationToken.None);
            await server.SendTextAsync("[{}]"u8.ToArray(), CancellationToken.None);
        });

        var first = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Text, first.Type);
        Assert.Equal(payload, first.Bytes);
        var second = await ReceiveAsync(client);
        Assert.Equal("[{}]", Encoding.UTF8.GetString(second.Bytes));
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AfterTheServersCloseFrame_NoTextFrameIsWritten()
    {
        var (server, serverSocket, client) = Connect();
        await server.SendTextAsync("[1]"u8.ToArray(), CancellationToken.None);

        await serverSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        var refused = await Assert.ThrowsAsync<WebSocketException>(async () => await server.SendTextAsync("[2]"u8.ToArray(), CancellationToken.None));
        Assert.Equal(WebSocketError.InvalidState, refused.WebSocketErrorCode);

        Assert.Equal("[1]", Encoding.UTF8.GetString((await ReceiveAsync(client)).Bytes));
        var close = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Close, close.Type);
        Assert.Equal("bye", client.CloseStatusDescription);
    }
}
