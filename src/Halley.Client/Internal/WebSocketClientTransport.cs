using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace Halley.Client.Internal;

/// <summary>
/// Bayeux <c>websocket</c>: requests go out as text frames holding a JSON array; the receive loop hands
/// every frame (replies and pushed events alike) to the sink in arrival order.
/// </summary>
internal sealed class WebSocketClientTransport : IClientTransport
{
    // One frame is one JSON array; past this a server is misbehaving and we would rather drop the
    // connection than buffer without bound.
    private const int MaxMessageBytes = 16 * 1024 * 1024;

    // Most Bayeux frames are a few hundred bytes; larger ones grow the per-message buffer.
    private const int ReceiveChunkBytes = 4096;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly Uri _uri;
    private readonly BayeuxClientOptions _options;
    private readonly ITransportSink _sink;
    private readonly SemaphoreSlim _sendLock = new(1, 1); // ClientWebSocket allows one send at a time
    private readonly Lock _gate = new();

    private Connection? _current;
    private bool _everOpened;
    // Whether the last connection ended with the server's normal close, for a send that finds it already gone.
    private bool _lastClosedNormally;

    public WebSocketClientTransport(BayeuxClientOptions options, ITransportSink sink)
    {
        _uri = ToWebSocketUri(options.Endpoint);
        _options = options;
        _sink = sink;
    }

    public string ConnectionType => "websocket";

    public bool RepliesInResponse => false;

    public async ValueTask<bool> OpenAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_current is { Socket.State: WebSocketState.Open })
            {
                return false;
            }
        }

        await ResetAsync().ConfigureAwait(false);

        var socket = new ClientWebSocket();
        _options.ConfigureWebSocket?.Invoke(socket.Options);
        try
        {
            if (_options.HttpHandler is { } handler)
            {
                using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
                await socket.ConnectAsync(_uri, invoker, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(_uri, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
        {
            socket.Dispose();
            throw new TransportException($"Could not open a WebSocket to {_uri}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new Connection(socket);
        bool reopened;
        lock (_gate)
        {
            _current = connection;
            _lastClosedNormally = false;
            reopened = _everOpened;
            _everOpened = true;
        }

        connection.ReceiveLoop = Task.Run(() => ReceiveLoopAsync(connection), CancellationToken.None);
        return reopened;
    }

    public async Task SendAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        Connection? connection;
        bool lastClosedNormally;
        lock (_gate)
        {
            connection = _current;
            lastClosedNormally = _lastClosedNormally;
        }

        if (connection is null || connection.Socket.State != WebSocketState.Open)
        {
            // The server's close may have arrived between the client's check that the socket was open and this
            // send: that is the same normal close as when it arrives after the send.
            var closedNormally = connection is null ? lastClosedNormally : connection.Socket.CloseStatus == WebSocketCloseStatus.NormalClosure;
            throw new TransportException("The WebSocket is not open.", closedNormally: closedNormally, notSent: true);
        }

        var payload = MessageCodec.Encode(messages);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.Socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            throw new TransportException($"Sending on the WebSocket failed: {ex.Message}", ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask ResetAsync()
    {
        Connection? old;
        lock (_gate)
        {
            old = _current;
            _current = null; // from here on its receive loop's end is not reported
            _lastClosedNormally = false;
        }

        if (old is not null)
        {
            await old.CloseAsync(graceful: false).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Connection? old;
        lock (_gate)
        {
            old = _current;
            _current = null;
        }

        if (old is not null)
        {
            await old.CloseAsync(graceful: true).ConfigureAwait(false);
        }

        _sendLock.Dispose();
    }

    internal static Uri ToWebSocketUri(Uri endpoint) => endpoint.Scheme switch
    {
        "http" => new UriBuilder(endpoint) { Scheme = "ws" }.Uri,
        "https" => new UriBuilder(endpoint) { Scheme = "wss" }.Uri,
        "ws" or "wss" => endpoint,
        _ => throw new ArgumentException($"The endpoint must be an http, https, ws or wss URI, not '{endpoint}'.", nameof(endpoint)),
    };

    private async Task ReceiveLoopAsync(Connection connection)
    {
        var socket = connection.Socket;
        var token = connection.Stopping.Token;
        var message = new ArrayBufferWriter<byte>(ReceiveChunkBytes);
        Exception? failure = null;
        try
        {
            while (true)
            {
                // Wait for data without holding a buffer, so an idle connection (most of a held connect's
                // life) costs no receive memory.
                var probe = await socket.ReceiveAsync(Memory<byte>.Empty, token).ConfigureAwait(false);
                if (probe.MessageType == WebSocketMessageType.Close)
                {
                    failure = ClosedByServer(socket);
                    return;
                }

                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(message.GetMemory(ReceiveChunkBytes), token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        failure = ClosedByServer(socket);
                        return;
                    }

                    message.Advance(result.Count);
                    if (message.WrittenCount > MaxMessageBytes)
                    {
                        failure = new TransportException($"The server sent a WebSocket message over {MaxMessageBytes} bytes.");
                        return;
                    }
                }
                while (!result.EndOfMessage);

                if (message.WrittenCount == 0)
                {
                    continue;
                }

                IReadOnlyList<InboundMessage> messages;
                try
                {
                    messages = MessageCodec.Parse(message.WrittenSpan);
                }
                catch (JsonException ex)
                {
                    failure = new TransportException("The server sent a WebSocket frame that is not a Bayeux message array.", ex);
                    return;
                }
                finally
                {
                    message.ResetWrittenCount();
                }

                await _sink.OnMessagesAsync(messages, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // We dropped this connection ourselves; nothing to report.
        }
        catch (Exception ex)
        {
            // Socket errors, and anything the sink threw: either way this connection is done.
            failure = new TransportException($"The WebSocket failed: {ex.Message}", ex);
        }
        finally
        {
            bool isCurrent;
            lock (_gate)
            {
                isCurrent = ReferenceEquals(_current, connection);
                if (isCurrent)
                {
                    _current = null;
                    _lastClosedNormally = failure is TransportException { ClosedNormally: true };
                }
            }

            if (isCurrent)
            {
                socket.Abort();
                _sink.OnConnectionLost(failure ?? new TransportException("The WebSocket closed."));
            }
        }
    }

    private static TransportException ClosedByServer(ClientWebSocket socket) => new(
        $"The server closed the WebSocket ({socket.CloseStatus} {socket.CloseStatusDescription}).",
        closedNormally: socket.CloseStatus == WebSocketCloseStatus.NormalClosure);

    /// <summary>One physical WebSocket and the loop that reads it.</summary>
    private sealed class Connection(ClientWebSocket socket)
    {
        public ClientWebSocket Socket { get; } = socket;

        public CancellationTokenSource Stopping { get; } = new();

        public Task? ReceiveLoop { get; set; }

        public async Task CloseAsync(bool graceful)
        {
            if (graceful && Socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                try
                {
                    await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "client closing", timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // Closing is best effort; the abort below ends the connection either way.
                }
            }

            await Stopping.CancelAsync().ConfigureAwait(false);
            Socket.Abort();
            if (ReceiveLoop is { } loop)
            {
                await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            Socket.Dispose();
            Stopping.Dispose();
        }
    }
}
