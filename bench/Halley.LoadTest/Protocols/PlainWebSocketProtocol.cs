using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace Halley.LoadTest.Protocols;

/// <summary>
/// No protocol at all, against the floor peer in <c>bench/peers/KestrelWebSocketPeer</c> (and Pushpin's peer, which
/// serves the same two URLs): a subscriber is a WebSocket to <c>/ws?channel=…</c> and every text message it receives
/// is one payload; a publisher POSTs the payload bytes to <c>/publish?channel=…</c>.
/// </summary>
/// <remarks>
/// <paramref name="target"/> is the server's base address (<c>http://127.0.0.1:5000</c>). The channel is part of the
/// WebSocket's URL, so <see cref="IPushConnection.ConnectAsync"/> only records that it was called and
/// <see cref="IPushConnection.SubscribeAsync"/> opens the socket; a connection subscribes to one channel. Connecting
/// is therefore timed as part of subscribing for this protocol.
/// </remarks>
public sealed class PlainWebSocketProtocol : IPushProtocol
{
    // One handler for the process: no per-connection handler, no proxy, no cookies; HTTP/1.1 keep-alive for publishes.
    private static readonly SocketsHttpHandler s_handler = new()
    {
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };

    private static readonly HttpClient s_http = new(s_handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) };

    /// <inheritdoc />
    public string Name => "kestrel-ws";

    /// <inheritdoc />
    public IPushConnection CreateConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(onMessage);
        return new PlainWebSocketConnection(target, onMessage, onFrame, s_handler);
    }

    /// <inheritdoc />
    public IPushPublisher CreatePublisher(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new PlainHttpPublisher(target, s_http);
    }

    /// <inheritdoc />
    public IPushPublisher CreateHttpPublisher(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var endpoint = new UriBuilder(target)
        {
            Scheme = target.Scheme is "https" or "wss" ? "https" : "http",
            Path = target.AbsolutePath.TrimEnd('/') + "/publish",
            Query = "",
        }.Uri;
        return new HttpPublisher(endpoint, HttpPublishStyle.ChannelQuery);
    }

    /// <summary><paramref name="target"/>'s path joined with <paramref name="path"/> and a <c>channel</c> query.</summary>
    internal static Uri ChannelUri(Uri target, string scheme, string path, string channel)
    {
        var builder = new UriBuilder(target)
        {
            Scheme = scheme,
            Path = target.AbsolutePath.TrimEnd('/') + path,
            Query = "channel=" + Uri.EscapeDataString(channel),
        };
        return builder.Uri;
    }
}

internal sealed class PlainWebSocketConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame, SocketsHttpHandler handler)
    : IPushConnection, IPushConnectionState
{
    private const int ReceiveBufferSize = 16 * 1024;

    private readonly HttpMessageInvoker _invoker = new(handler, disposeHandler: false);
    private ClientWebSocket? _webSocket;
    private Task? _receiveLoop;
    private bool _connectCalled;
    private int _disposed;
    private string? _closeReason;

    /// <summary>True once the socket ended on its own (the server closed it, or it failed) rather than by DisposeAsync.</summary>
    public bool IsClosed => _receiveLoop is { IsCompleted: true } && Volatile.Read(ref _disposed) == 0;

    public string? CloseReason => IsClosed ? _closeReason : null;

    public Task ConnectAsync(CancellationToken cancellationToken)
    {
        // The socket's URL names its channel: it is opened by SubscribeAsync.
        _connectCalled = true;
        return Task.CompletedTask;
    }

    public async Task SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (!_connectCalled)
        {
            throw new InvalidOperationException("ConnectAsync must be called first.");
        }

        if (_webSocket is not null)
        {
            throw new NotSupportedException("A plain WebSocket connection subscribes to exactly one channel.");
        }

        var secure = target.Scheme is "https" or "wss";
        var uri = PlainWebSocketProtocol.ChannelUri(target, secure ? "wss" : "ws", "/ws", channel);
        var webSocket = new ClientWebSocket();
        // The server pings (ASP.NET Core's default keep-alive); no timer per client socket.
        webSocket.Options.KeepAliveInterval = TimeSpan.Zero;
        webSocket.Options.HttpVersion = HttpVersion.Version11;
        webSocket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        _webSocket = webSocket;
        // Once the upgrade completed the server has the socket in the channel's set: that is the confirmation.
        await webSocket.ConnectAsync(uri, _invoker, cancellationToken).ConfigureAwait(false);
        _receiveLoop = ReceiveLoopAsync(webSocket);
    }

    private async Task ReceiveLoopAsync(ClientWebSocket webSocket)
    {
        try
        {
            // Bounded by the connection's lifetime: ends on close or abort.
            while (webSocket.State == WebSocketState.Open)
            {
                // Wait for data without holding a buffer.
                var ready = await webSocket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (ready.MessageType == WebSocketMessageType.Close || !await ReceiveMessageAsync(webSocket).ConfigureAwait(false))
                {
                    break;
                }
            }

            _closeReason = "closed by the server";
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The server, the network or DisposeAsync ended the connection.
            _closeReason = ex.Message;
        }
    }

    /// <summary>Reads one whole message into a rented buffer and hands it on; false once the server closed.</summary>
    private async Task<bool> ReceiveMessageAsync(ClientWebSocket webSocket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var count = 0;
        try
        {
            // Bounded by the message: each pass reads one fragment.
            while (true)
            {
                RentedBuffer.EnsureRoom(ref buffer, count);

                var result = await webSocket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return false;
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    // One text message is one payload: a frame always carries exactly one.
                    onMessage(buffer.AsMemory(0, count));
                    onFrame?.Invoke(1);
                    return true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _webSocket is not { } webSocket)
        {
            return;
        }

        if (webSocket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Closing is best effort; Abort below ends the connection either way.
            }
        }

        webSocket.Abort();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false); // never throws
        }

        webSocket.Dispose();
    }
}

internal sealed class PlainHttpPublisher(Uri target, HttpClient http) : IPushPublisher
{
    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var secure = target.Scheme is "https" or "wss";
        using var request = new HttpRequestMessage(HttpMethod.Post, PlainWebSocketProtocol.ChannelUri(target, secure ? "https" : "http", "/publish", channel))
        {
            Content = new ReadOnlyMemoryContent(payloadJson),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the HttpClient is shared by the process
}
