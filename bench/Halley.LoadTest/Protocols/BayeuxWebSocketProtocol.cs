using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Http;
using System.Net.WebSockets;

namespace Halley.LoadTest.Protocols;

/// <summary>
/// Bayeux over WebSocket (Halley at <c>/cometd</c>, Faye at <c>/faye</c>: the target URL is used whole, its
/// scheme switched to ws/wss). Each connection handshakes, sends a first <c>/meta/connect</c> with
/// <c>advice.timeout: 0</c>, subscribes, then sends the next connect each time the previous one is answered;
/// events arrive pushed. An idle connection waits with a zero-byte receive and holds no receive buffer.
/// </summary>
public sealed class BayeuxWebSocketProtocol(string name) : IPushProtocol
{
    // One handler for every socket of the process: an upgrade takes its connection out of the pool.
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    });

    public string Name { get; } = name;

    public IPushConnection CreateConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame = null) =>
        new BayeuxWebSocketConnection(ToWebSocketUri(target), _invoker, onMessage, onFrame);

    public IPushPublisher CreatePublisher(Uri target) => new BayeuxWebSocketPublisher(ToWebSocketUri(target), _invoker);

    public IPushPublisher CreateHttpPublisher(Uri target) => CreateHttpPublisher(Name, target);

    /// <summary>
    /// <c>halley-*</c>: Halley's backend API, <c>POST /api/publish</c> on the target's origin. <c>bayeux-*</c>: a
    /// Bayeux publish message without a session POSTed to the endpoint itself, which Faye accepts (Halley does not:
    /// it wants a session, so use <c>halley-*</c> against Halley).
    /// </summary>
    internal static IPushPublisher CreateHttpPublisher(string name, Uri target)
    {
        var http = new UriBuilder(target) { Scheme = target.Scheme is "https" or "wss" ? "https" : "http" }.Uri;
        return name.StartsWith("halley", StringComparison.Ordinal)
            ? new HttpPublisher(HttpPublisher.AtOrigin(target, "/api/publish"), HttpPublishStyle.HalleyApi)
            : new HttpPublisher(http, HttpPublishStyle.Bayeux);
    }

    internal static Uri ToWebSocketUri(Uri target)
    {
        var builder = new UriBuilder(target);
        builder.Scheme = builder.Scheme switch
        {
            "https" or "wss" => "wss",
            _ => "ws",
        };
        return builder.Uri;
    }
}

/// <summary>The part shared by a subscriber and a publisher: one socket, its Bayeux session, its connect loop.</summary>
internal abstract class BayeuxWebSocketSession : IAsyncDisposable
{
    protected const string ConnectionType = "websocket";
    private const int InitialReceiveBuffer = 4096;

    private readonly Uri _uri;
    private readonly HttpMessageInvoker _invoker;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private ClientWebSocket? _socket;
    private Task? _receiveLoop;
    private long _nextId = 1;
    private volatile bool _disposed;

    protected BayeuxWebSocketSession(Uri uri, HttpMessageInvoker invoker)
    {
        _uri = uri;
        _invoker = invoker;
    }

    protected string ClientId { get; private set; } = "";

    public bool IsClosed { get; private set; }

    public string? CloseReason { get; private set; }

    protected long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Opens the socket and handshakes; then starts the receive loop and sends the first connect.</summary>
    protected async Task OpenAsync(CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        // The server pings; client pings would only add a timer per socket.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        _socket = socket;
        await socket.ConnectAsync(_uri, _invoker, cancellationToken);
        await SendAsync(BayeuxWire.Handshake(ConnectionType), cancellationToken);
        // Read the handshake reply in line: nothing else can arrive before it.
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        try
        {
            while (true)
            {
                var (frame, length) = await ReceiveFrameAsync(socket, buffer, cancellationToken);
                buffer = frame;
                if (length < 0)
                {
                    throw new WebSocketException("The server closed the socket during the handshake.");
                }
                var reader = new BayeuxFrameReader(frame.AsSpan(0, length));
                while (reader.TryRead(out var message))
                {
                    if (message.Kind == BayeuxChannelKind.Handshake)
                    {
                        if (message.Successful != true || message.ClientId is null)
                        {
                            throw new InvalidOperationException(BayeuxWire.Describe(message, "handshake"));
                        }
                        ClientId = message.ClientId;
                    }
                }
                if (ClientId.Length > 0)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        await SendAsync(BayeuxWire.Connect(ClientId, ConnectionType, immediate: true, NextId()), cancellationToken);
    }

    protected async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("Not open.");
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Handles one non-connect message (the loop handles connect replies). Runs on the receive loop.</summary>
    protected abstract void OnMessage(in BayeuxMessage message, ReadOnlyMemory<byte> frame);

    /// <summary>Called after a frame's messages were handled, with how many of them were events (when any were).</summary>
    protected virtual void OnFrame(int events)
    {
    }

    /// <summary>Called once when the session ends without being disposed.</summary>
    protected virtual void OnClosed(string reason)
    {
    }

    private async Task ReceiveLoopAsync()
    {
        var socket = _socket!;
        var token = _stop.Token;
        string? reason = null;
        try
        {
            while (reason is null)
            {
                // Zero-byte read: wait for data without holding a buffer while idle.
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, token);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    reason = $"server closed the socket ({socket.CloseStatus} {socket.CloseStatusDescription})";
                    break;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
                try
                {
                    var (frame, length) = await ReceiveFrameAsync(socket, buffer, token);
                    buffer = frame;
                    if (length < 0)
                    {
                        reason = $"server closed the socket ({socket.CloseStatus} {socket.CloseStatusDescription})";
                        break;
                    }
                    reason = await HandleFrameAsync(frame, length, token);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or System.Text.Json.JsonException or InvalidOperationException)
        {
            reason = ex.Message;
        }
        if (!_disposed)
        {
            CloseReason = reason;
            IsClosed = true;
            OnClosed(reason ?? "closed");
        }
    }

    private async ValueTask<string?> HandleFrameAsync(byte[] frame, int length, CancellationToken token)
    {
        var sendConnect = false;
        var events = 0;
        string? failure = null;
        var reader = new BayeuxFrameReader(frame.AsSpan(0, length));
        while (reader.TryRead(out var message))
        {
            if (message.Kind == BayeuxChannelKind.Connect)
            {
                if (message.Successful == true && message.Reconnect != "none")
                {
                    sendConnect = true;
                }
                else
                {
                    failure = BayeuxWire.Describe(message, "connect");
                }
            }
            else if (message.IsEvent)
            {
                events++;
                OnMessage(message, frame.AsMemory(0, length));
            }
            else
            {
                OnMessage(message, frame.AsMemory(0, length));
            }
        }
        if (events > 0)
        {
            OnFrame(events);
        }
        if (failure is not null)
        {
            return failure;
        }
        if (sendConnect)
        {
            await SendAsync(BayeuxWire.Connect(ClientId, ConnectionType, immediate: false, NextId()), token);
        }
        return null;
    }

    /// <summary>Reads one whole message into <paramref name="buffer"/>, growing it from the pool; length -1 on close.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReceiveFrameAsync(ClientWebSocket socket, byte[] buffer, CancellationToken token)
    {
        var length = 0;
        while (true)
        {
            RentedBuffer.EnsureRoom(ref buffer, length);
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (buffer, -1);
            }
            length += result.Count;
            if (result.EndOfMessage)
            {
                return (buffer, length);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        var socket = _socket;
        if (socket is not null && socket.State == WebSocketState.Open && ClientId.Length > 0)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await SendAsync(BayeuxWire.Disconnect(ClientId), timeout.Token);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Closing is best effort.
            }
        }
        await _stop.CancelAsync();
        socket?.Abort();
        socket?.Dispose();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _stop.Dispose();
        _sendLock.Dispose();
    }
}

internal sealed class BayeuxWebSocketConnection(Uri uri, HttpMessageInvoker invoker, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame)
    : BayeuxWebSocketSession(uri, invoker), IPushConnection, IPushConnectionState
{
    private TaskCompletionSource<string?>? _pendingSubscribe;
    private long _pendingSubscribeId;

    public Task ConnectAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    public async Task SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        var id = NextId();
        var pending = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _pendingSubscribeId, id);
        Volatile.Write(ref _pendingSubscribe, pending);
        await SendAsync(BayeuxWire.Subscribe(ClientId, channel, id), cancellationToken);
        var error = await pending.Task.WaitAsync(cancellationToken);
        if (error is not null)
        {
            throw new InvalidOperationException(error);
        }
    }

    protected override void OnMessage(in BayeuxMessage message, ReadOnlyMemory<byte> frame)
    {
        if (message.IsEvent)
        {
            onMessage(frame.Slice(message.DataStart, message.DataLength));
        }
        else if (message.Kind == BayeuxChannelKind.Subscribe)
        {
            var pending = Volatile.Read(ref _pendingSubscribe);
            // Faye and Halley echo the id; a reply without one still answers the only pending subscribe.
            if (pending is not null && (message.Id < 0 || message.Id == Volatile.Read(ref _pendingSubscribeId)))
            {
                Volatile.Write(ref _pendingSubscribe, null);
                pending.TrySetResult(message.Successful == true ? null : BayeuxWire.Describe(message, "subscribe"));
            }
        }
    }

    protected override void OnFrame(int events) => onFrame?.Invoke(events);

    protected override void OnClosed(string reason) =>
        Volatile.Read(ref _pendingSubscribe)?.TrySetResult("connection closed: " + reason);
}

/// <summary>Publishes over its own Bayeux WebSocket session; replies are matched to publishes by id.</summary>
internal sealed class BayeuxWebSocketPublisher(Uri uri, HttpMessageInvoker invoker) : BayeuxWebSocketSession(uri, invoker), IPushPublisher
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<string?>> _pending = new();
    private readonly SemaphoreSlim _openLock = new(1, 1);
    private bool _open;

    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken)
    {
        if (!_open)
        {
            await EnsureOpenAsync(cancellationToken);
        }
        if (IsClosed)
        {
            throw new InvalidOperationException("publisher session closed: " + CloseReason);
        }
        var id = NextId();
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            var buffer = new ArrayBufferWriter<byte>(payloadJson.Length + 160);
            BayeuxWire.WritePublish(buffer, ClientId, channel, payloadJson.Span, id);
            await SendAsync(buffer.WrittenMemory, cancellationToken);
            var error = await reply.Task.WaitAsync(cancellationToken);
            if (error is not null)
            {
                throw new InvalidOperationException(error);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        await _openLock.WaitAsync(cancellationToken);
        try
        {
            if (!_open)
            {
                await OpenAsync(cancellationToken);
                _open = true;
            }
        }
        finally
        {
            _openLock.Release();
        }
    }

    protected override void OnMessage(in BayeuxMessage message, ReadOnlyMemory<byte> frame)
    {
        if (message.Kind == BayeuxChannelKind.Broadcast && message.Successful is not null && _pending.TryGetValue(message.Id, out var reply))
        {
            reply.TrySetResult(message.Successful == true ? null : BayeuxWire.Describe(message, "publish"));
        }
    }

    protected override void OnClosed(string reason)
    {
        foreach (var reply in _pending.Values)
        {
            reply.TrySetResult("publisher session closed: " + reason);
        }
    }
}
