using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Halley.LoadTest.Protocols;

/// <summary>
/// ASP.NET Core SignalR's JSON hub protocol (version 1) over a raw <see cref="ClientWebSocket"/>, against the
/// peer in <c>bench/peers/SignalRPeer</c>: hub <c>Subscribe(channel)</c> joins a group, <c>Publish(channel, payload)</c>
/// sends <c>m</c> with the payload to the group.
/// </summary>
/// <remarks>
/// <para>
/// <paramref name="target"/> in <see cref="CreateConnection"/>/<see cref="CreatePublisher"/> is the server's base
/// address (<c>http://127.0.0.1:5000</c>, the hub is then <c>/hub</c>) or the hub's own address (any non-root path).
/// The client skips negotiation, as the official clients do with <c>skipNegotiation: true</c>: a SignalR server
/// accepts a WebSocket upgrade on the hub URL without a connection id and creates the connection on the spot.
/// </para>
/// <para>
/// The server drops a client it has heard nothing from for 30 s (<c>ClientTimeoutInterval</c>), counting only hub
/// messages, not WebSocket control frames. Without a timer per connection, a client sends a ping
/// (<c>{"type":6}</c>) when the server pings it (the server does every 15 s while it has nothing else to send) and
/// whenever it receives anything more than 10 s after its own last send.
/// </para>
/// </remarks>
public sealed class SignalRProtocol : IPushProtocol
{
    /// <summary>Connections a publisher spreads its invocations over.</summary>
    /// <remarks>
    /// A SignalR server runs one hub invocation per connection at a time (<c>MaximumParallelInvocationsPerClient</c>
    /// defaults to 1, and <c>Publish</c> completes only when the group send did), so a single publishing connection
    /// would serialize every publish behind the previous fan-out. Several connections keep publishes concurrent while
    /// the server keeps its defaults.
    /// </remarks>
    public const int PublisherConnections = 4;

    /// <inheritdoc />
    public string Name => "signalr";

    /// <inheritdoc />
    public IPushConnection CreateConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame = null)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        return new SignalRConnection(HubUri(target), onMessage, onFrame);
    }

    /// <inheritdoc />
    public IPushPublisher CreatePublisher(Uri target) => new SignalRPublisher(HubUri(target), PublisherConnections);

    /// <inheritdoc />
    /// <remarks>The peer's <c>POST /publish?channel=…</c>: <c>IHubContext&lt;PeerHub&gt;.Clients.Group(channel).SendAsync("m", payload)</c>, as a backend publishes through SignalR.</remarks>
    public IPushPublisher CreateHttpPublisher(Uri target) =>
        new HttpPublisher(HttpPublisher.AtOrigin(target, "/publish"), HttpPublishStyle.ChannelQuery);

    /// <summary>The hub's WebSocket address: <c>/hub</c> under a base address, or the given path as it is.</summary>
    internal static Uri HubUri(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var builder = new UriBuilder(target)
        {
            Scheme = target.Scheme switch
            {
                "https" or "wss" => "wss",
                _ => "ws",
            },
        };
        if (builder.Path is "" or "/")
        {
            builder.Path = "/hub";
        }

        return builder.Uri;
    }
}

/// <summary>A subscriber: one hub connection that invokes <c>Subscribe</c> and receives <c>m</c> invocations.</summary>
internal sealed class SignalRConnection(Uri hubUri, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame) : IPushConnection, IPushConnectionState
{
    private readonly SignalRSocket _socket = new(hubUri, onMessage, onFrame);

    public bool IsClosed => _socket.IsClosed;

    public string? CloseReason => _socket.CloseReason;

    public Task ConnectAsync(CancellationToken cancellationToken) => _socket.ConnectAsync(cancellationToken);

    public Task SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return _socket.InvokeAsync("Subscribe", channel, payloadJson: default, cancellationToken);
    }

    public ValueTask DisposeAsync() => _socket.DisposeAsync();
}

/// <summary>A publisher: invokes <c>Publish</c> round-robin over a few hub connections, opened on first use.</summary>
internal sealed class SignalRPublisher : IPushPublisher
{
    private readonly SignalRSocket[] _sockets;
    private readonly Lazy<Task> _connect;
    private int _next;

    public SignalRPublisher(Uri hubUri, int connections)
    {
        _sockets = new SignalRSocket[Math.Max(1, connections)];
        for (var i = 0; i < _sockets.Length; i++)
        {
            _sockets[i] = new SignalRSocket(hubUri, onMessage: null, onFrame: null);
        }

        // The publisher outlives any one caller, so its connections are not tied to the first caller's token.
        _connect = new Lazy<Task>(() => Task.WhenAll(_sockets.Select(s => s.ConnectAsync(CancellationToken.None))));
    }

    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        await _connect.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var socket = _sockets[(int)((uint)Interlocked.Increment(ref _next) % (uint)_sockets.Length)];
        await socket.InvokeAsync("Publish", channel, payloadJson, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            await socket.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// One SignalR hub connection: handshake, invocations with completions, pings, and a receive loop that waits with a
/// zero-byte read and only then rents a buffer, so an idle connection holds none.
/// </summary>
internal sealed class SignalRSocket : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1E;
    private const int ReceiveBufferSize = 16 * 1024;
    private const long PingAfterIdleSendMs = 10_000;

    private static readonly byte[] s_handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] s_ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");
    private static readonly byte[] s_invocationStart = Encoding.UTF8.GetBytes("{\"type\":1,\"invocationId\":\"");
    private static readonly byte[] s_invocationTarget = Encoding.UTF8.GetBytes("\",\"target\":\"");
    private static readonly byte[] s_invocationArguments = Encoding.UTF8.GetBytes("\",\"arguments\":[");
    private static readonly byte[] s_invocationEnd = Encoding.UTF8.GetBytes("]}\u001e");

    // One handler for every connection of the process: no per-connection handler, no proxy, no cookies.
    private static readonly HttpMessageInvoker s_invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    });

    private readonly Uri _uri;
    private readonly Action<ReadOnlyMemory<byte>>? _onMessage;
    private readonly Action<int>? _onFrame;
    private readonly ClientWebSocket _webSocket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _pending = new();
    private TaskCompletionSource? _handshake;
    private Task? _receiveLoop;
    private int _nextInvocationId;
    private long _lastSendTicks;
    private int _disposed;
    private string? _closeReason;

    // "m" invocations handled since the current WebSocket message began (only the receive loop touches it).
    private int _messagesInFrame;

    public SignalRSocket(Uri uri, Action<ReadOnlyMemory<byte>>? onMessage, Action<int>? onFrame)
    {
        _uri = uri;
        _onMessage = onMessage;
        _onFrame = onFrame;
        // Liveness is SignalR's own ping (see SignalRProtocol); no keep-alive timer per socket.
        _webSocket.Options.KeepAliveInterval = TimeSpan.Zero;
        _webSocket.Options.HttpVersion = HttpVersion.Version11;
        _webSocket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
    }

    /// <summary>True once the connection ended on its own (the server closed it, or it failed) rather than by DisposeAsync.</summary>
    public bool IsClosed => _receiveLoop is { IsCompleted: true } && Volatile.Read(ref _disposed) == 0;

    public string? CloseReason => IsClosed ? _closeReason : null;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _webSocket.ConnectAsync(_uri, s_invoker, cancellationToken).ConfigureAwait(false);
        _handshake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendAsync(s_handshake, cancellationToken).ConfigureAwait(false);
        _receiveLoop = ReceiveLoopAsync();
        await _handshake.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Invokes <paramref name="target"/>(channel[, payload]) and completes with the server's completion message.</summary>
    public async Task InvokeAsync(string target, string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextInvocationId);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        if (_receiveLoop is { IsCompleted: true })
        {
            _pending.TryRemove(id, out _);
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The SignalR connection is closed.");
        }

        var message = WriteInvocation(id, target, channel, payloadJson, out var length);
        try
        {
            await SendAsync(message.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }

        try
        {
            await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>{"type":1,"invocationId":"N","target":"T","arguments":["channel"(,payload)]} + 0x1E, in a rented array.</summary>
    private static byte[] WriteInvocation(int id, string target, string channel, ReadOnlyMemory<byte> payloadJson, out int length)
    {
        var channelJson = JsonEncodedText.Encode(channel).EncodedUtf8Bytes;
        var capacity = s_invocationStart.Length + 11 + s_invocationTarget.Length + Encoding.UTF8.GetMaxByteCount(target.Length)
            + s_invocationArguments.Length + channelJson.Length + 3 + payloadJson.Length + s_invocationEnd.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        var span = buffer.AsSpan();
        var n = 0;
        Append(span, ref n, s_invocationStart);
        Utf8Formatter.TryFormat(id, span[n..], out var written);
        n += written;
        Append(span, ref n, s_invocationTarget);
        n += Encoding.UTF8.GetBytes(target, span[n..]);
        Append(span, ref n, s_invocationArguments);
        span[n++] = (byte)'"';
        Append(span, ref n, channelJson);
        span[n++] = (byte)'"';
        if (!payloadJson.IsEmpty)
        {
            span[n++] = (byte)',';
            Append(span, ref n, payloadJson.Span);
        }

        Append(span, ref n, s_invocationEnd);
        length = n;
        return buffer;

        static void Append(Span<byte> destination, ref int offset, ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(destination[offset..]);
            offset += bytes.Length;
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _webSocket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _lastSendTicks, Environment.TickCount64);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a ping unless a send is already in flight (which resets the server's timeout as well).</summary>
    private void TrySendPing()
    {
        if (!_sendLock.Wait(0))
        {
            return;
        }

        Volatile.Write(ref _lastSendTicks, Environment.TickCount64);
        _ = PingAsync();

        async Task PingAsync()
        {
            try
            {
                await _webSocket.SendAsync(s_ping, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
            {
                // The receive loop sees the same failure and ends the connection.
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? failure = null;
        try
        {
            // Bounded by the connection's lifetime: ends on close, abort or a protocol error.
            while (_webSocket.State == WebSocketState.Open)
            {
                // Wait for data without holding a buffer.
                var ready = await _webSocket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (ready.MessageType == WebSocketMessageType.Close || !await ReceiveAvailableAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            var closed = failure ?? new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The SignalR connection closed.");
            _closeReason ??= failure?.Message ?? "closed by the server";
            _handshake?.TrySetException(closed);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(closed);
            }
        }
    }

    /// <summary>Reads into a rented buffer until every record received so far is handled; false once the server closed.</summary>
    private async Task<bool> ReceiveAvailableAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var count = 0;
        try
        {
            // Bounded by the server's data: each pass consumes a frame fragment; ends at a message end with no partial record.
            while (true)
            {
                RentedBuffer.EnsureRoom(ref buffer, count);

                var result = await _webSocket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return false;
                }

                count += result.Count;
                var consumed = HandleRecords(buffer.AsMemory(0, count));
                if (consumed > 0)
                {
                    buffer.AsSpan(consumed, count - consumed).CopyTo(buffer);
                    count -= consumed;
                }

                if (Environment.TickCount64 - Volatile.Read(ref _lastSendTicks) > PingAfterIdleSendMs)
                {
                    TrySendPing();
                }

                // A WebSocket message is the frame: the records the server wrote together (0x1E-separated).
                if (result.EndOfMessage && _messagesInFrame > 0)
                {
                    _onFrame?.Invoke(_messagesInFrame);
                    _messagesInFrame = 0;
                }

                if (result.EndOfMessage && count == 0)
                {
                    return true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Handles every complete record in <paramref name="data"/>; returns the bytes consumed.</summary>
    private int HandleRecords(ReadOnlyMemory<byte> data)
    {
        var consumed = 0;
        var span = data.Span;
        // Bounded by the data: each pass consumes one record.
        while (true)
        {
            var end = span[consumed..].IndexOf(RecordSeparator);
            if (end < 0)
            {
                return consumed;
            }

            HandleRecord(data.Slice(consumed, end));
            consumed += end + 1;
        }
    }

    private void HandleRecord(ReadOnlyMemory<byte> record)
    {
        if (_handshake is { Task.IsCompleted: false } handshake)
        {
            // {} or {"error":"..."}
            if (record.Span.IndexOf("\"error\""u8) >= 0)
            {
                handshake.TrySetException(new InvalidOperationException("SignalR handshake failed: " + Encoding.UTF8.GetString(record.Span)));
            }
            else
            {
                handshake.TrySetResult();
            }

            return;
        }

        var reader = new Utf8JsonReader(record.Span);
        var type = 0;
        var invocationId = -1;
        var isTargetM = false;
        string? error = null;
        var argumentStart = -1;
        var argumentLength = 0;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("A SignalR message is not a JSON object.");
        }

        // Bounded by the record: each pass reads one property.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("invocationId"u8))
            {
                reader.Read();
                if (!Utf8Parser.TryParse(reader.ValueSpan, out invocationId, out _))
                {
                    invocationId = -1;
                }
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                isTargetM = reader.ValueTextEquals("m"u8);
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read(); // [
                if (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    argumentStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    argumentLength = (int)reader.BytesConsumed - argumentStart;
                    // The remaining arguments, if any.
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = reader.GetString();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        switch (type)
        {
            case 1 when isTargetM && argumentStart >= 0:
                _onMessage?.Invoke(record.Slice(argumentStart, argumentLength));
                _messagesInFrame++;
                break;
            case 3 when _pending.TryGetValue(invocationId, out var completion):
                if (error is null)
                {
                    completion.TrySetResult();
                }
                else
                {
                    completion.TrySetException(new InvalidOperationException("SignalR invocation failed: " + error));
                }

                break;
            case 6:
                TrySendPing();
                break;
            case 7:
                // Close: the server ends the connection after sending it; the receive loop sees that.
                _closeReason = error is null ? "SignalR close message" : "SignalR close message: " + error;
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_webSocket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Closing is best effort; Abort below ends the connection either way.
            }
        }

        _webSocket.Abort();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false); // never throws: it records its failure
        }

        // _sendLock is not disposed: a ping may still release it, and it never allocated a wait handle.
        _webSocket.Dispose();
    }
}
