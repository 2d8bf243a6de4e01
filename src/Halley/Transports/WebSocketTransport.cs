using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports;

/// <summary>
/// <c>websocket</c>: each text frame is a Bayeux array; replies and events go back as arrays, several events
/// per frame when they were queued together. Without the ack extension, events are pushed as they arrive,
/// independently of the held <c>/meta/connect</c>.
/// </summary>
internal sealed partial class WebSocketTransport(BayeuxProcessor processor, BrowserCookie browserCookie, HalleyMetrics metrics, IOptions<HalleyOptions> options, ILogger<WebSocketTransport> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var browserId = browserCookie.Read(context.Request);
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        metrics.ConnectionOpened(ConnectionTypes.WebSocket);
        try
        {
            var connection = new WebSocketConnection(socket, browserId, processor, options.Value, logger);
            await connection.RunAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            metrics.ConnectionClosed(ConnectionTypes.WebSocket);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Debug, "WebSocket closed: {Reason}", EventName = "WebSocketClosed")]
        public static partial void Closed(ILogger logger, string reason);

        [LoggerMessage(21, LogLevel.Debug, "WebSocket failed", EventName = "WebSocketFailed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }

    /// <summary>One accepted socket: a read loop that processes batches and a write loop that owns all sends.</summary>
    private sealed class WebSocketConnection : IPushTarget
    {
        // Replies waiting for the writer; a client that sends without ever reading is cut off past this.
        private const int MaxPendingOutgoing = 4096;
        private const int ReceiveChunkSize = 4096;

        private readonly WebSocket _socket;
        private readonly BayeuxProcessor _processor;
        private readonly HalleyOptions _options;
        private readonly ILogger _logger;
        private readonly TransportContext _context;
        private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        private readonly Lock _gate = new();
        private List<Outgoing> _outgoing = [];
        private readonly HashSet<BayeuxSession> _boundSessions = [];
        private readonly HashSet<BayeuxSession> _pushSessions = [];
        private readonly HashSet<PendingConnect> _heldConnects = [];

        public WebSocketConnection(WebSocket socket, string? browserId, BayeuxProcessor processor, HalleyOptions options, ILogger logger)
        {
            _socket = socket;
            _processor = processor;
            _options = options;
            _logger = logger;
            _context = new TransportContext
            {
                ConnectionType = ConnectionTypes.WebSocket,
                BrowserId = browserId,
                Connection = this,
                OnSessionUsed = Bind,
            };
        }

        public void MessagesAvailable() => _wake.Writer.TryWrite(true);

        public async Task RunAsync(CancellationToken aborted)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var writer = WriteLoopAsync(stop.Token);
            try
            {
                await ReadLoopAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                Log.Failed(_logger, ex);
            }
            finally
            {
                stop.Cancel();
                Release();
                await writer.ConfigureAwait(false);
            }
        }

        private async Task ReadLoopAsync(CancellationToken cancellationToken)
        {
            while (_socket.State == WebSocketState.Open)
            {
                // Wait for data without a buffer, so an idle connection holds none.
                var probe = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                if (probe.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken).ConfigureAwait(false);
                    return;
                }
                var (status, frame) = await ReceiveMessageAsync(cancellationToken).ConfigureAwait(false);
                switch (status)
                {
                    case WebSocketCloseStatus.NormalClosure when frame is null:
                        await CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken).ConfigureAwait(false);
                        return;
                    case WebSocketCloseStatus.MessageTooBig:
                        await CloseAsync(status, $"Message exceeds Halley:MaxMessageSize ({_options.MaxMessageSize} bytes)", cancellationToken).ConfigureAwait(false);
                        return;
                    case WebSocketCloseStatus.InvalidMessageType:
                        await CloseAsync(status, "Bayeux frames are text", cancellationToken).ConfigureAwait(false);
                        return;
                }
                await ProcessFrameAsync(frame!, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Reads one whole message; the status says why it stopped when it is not a complete text message.</summary>
        private async Task<(WebSocketCloseStatus Status, byte[]? Frame)> ReceiveMessageAsync(CancellationToken cancellationToken)
        {
            var limit = _options.MaxMessageSize;
            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunkSize);
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return (WebSocketCloseStatus.NormalClosure, null);
                    }
                    if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        return (WebSocketCloseStatus.InvalidMessageType, null);
                    }
                    length += result.Count;
                    if (length > limit)
                    {
                        return (WebSocketCloseStatus.MessageTooBig, null);
                    }
                    if (result.EndOfMessage)
                    {
                        // Messages keep slices of the frame while they are processed, so it gets its own array.
                        return (WebSocketCloseStatus.Empty, buffer.AsSpan(0, length).ToArray());
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task ProcessFrameAsync(byte[] frame, CancellationToken cancellationToken)
        {
            if (BayeuxCodec.TryParseBatch(frame, out var batch) != BatchParseError.None)
            {
                Enqueue(new Outgoing(new BayeuxReply("", null) { Successful = false, Error = BayeuxErrors.InvalidMessage("malformed_json") }));
                return;
            }
            if (batch.Count == 0)
            {
                return; // Faye's keep-alive "[]".
            }
            var replies = new List<BayeuxReply>(batch.Count);
            var pending = await _processor.ProcessAsync(batch, _context, replies, cancellationToken).ConfigureAwait(false);
            foreach (var reply in replies)
            {
                Enqueue(new Outgoing(reply));
            }
            if (pending is not null)
            {
                lock (_gate)
                {
                    _heldConnects.Add(pending);
                }
                _ = CompleteWhenReleasedAsync(pending);
            }
        }

        private async Task CompleteWhenReleasedAsync(PendingConnect pending)
        {
            var outcome = await pending.Held.Outcome.ConfigureAwait(false);
            lock (_gate)
            {
                if (!_heldConnects.Remove(pending))
                {
                    return; // The socket closed; nobody is there to read a reply.
                }
            }
            var events = new List<EncodedMessage>();
            var reply = _processor.CompleteConnect(pending, outcome, events);
            lock (_gate)
            {
                _outgoing.Add(new Outgoing(reply));
                foreach (var message in events)
                {
                    _outgoing.Add(new Outgoing(message));
                }
            }
            MessagesAvailable();
        }

        private void Enqueue(Outgoing item)
        {
            bool overflow;
            lock (_gate)
            {
                _outgoing.Add(item);
                overflow = _outgoing.Count > MaxPendingOutgoing;
            }
            if (overflow)
            {
                _socket.Abort();
                return;
            }
            MessagesAvailable();
        }

        private void Bind(BayeuxSession session)
        {
            lock (_gate)
            {
                if (!_boundSessions.Add(session))
                {
                    return;
                }
            }
            if (session.AttachPushTarget(this))
            {
                lock (_gate)
                {
                    _pushSessions.Add(session);
                }
            }
        }

        private async Task WriteLoopAsync(CancellationToken cancellationToken)
        {
            var buffer = new ArrayBufferWriter<byte>(ReceiveChunkSize);
            var events = new List<EncodedMessage>();
            var items = new List<Outgoing>();
            await using var json = new Utf8JsonWriter(buffer);
            try
            {
                while (await _wake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    _wake.Reader.TryRead(out _);
                    lock (_gate)
                    {
                        (items, _outgoing) = (_outgoing, items);
                        foreach (var session in _pushSessions)
                        {
                            session.Drain(this, events);
                        }
                    }
                    if (items.Count == 0 && events.Count == 0)
                    {
                        continue;
                    }
                    buffer.ResetWrittenCount();
                    json.Reset(buffer);
                    WriteFrame(json, items, events);
                    items.Clear();
                    events.Clear();
                    await _socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                    if (buffer.Capacity > 64 * 1024)
                    {
                        // Do not keep a burst's large buffer for the rest of the connection's life.
                        buffer = new ArrayBufferWriter<byte>(ReceiveChunkSize);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // The socket closed under the writer; the read loop reports why.
            }
        }

        private static void WriteFrame(Utf8JsonWriter json, List<Outgoing> items, List<EncodedMessage> events)
        {
            json.WriteStartArray();
            foreach (var item in items)
            {
                if (item.Reply is not null)
                {
                    item.Reply.WriteTo(json);
                }
                else
                {
                    json.WriteRawValue(item.Event!.Json.Span, skipInputValidation: true);
                }
            }
            foreach (var message in events)
            {
                json.WriteRawValue(message.Json.Span, skipInputValidation: true);
            }
            json.WriteEndArray();
            json.Flush();
        }

        private async Task CloseAsync(WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
        {
            Log.Closed(_logger, status.ToString());
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, description, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The socket is gone: its sessions stay alive until they expire, so the client can come back.</summary>
        private void Release()
        {
            BayeuxSession[] sessions;
            PendingConnect[] held;
            lock (_gate)
            {
                sessions = [.. _boundSessions];
                held = [.. _heldConnects];
                _boundSessions.Clear();
                _pushSessions.Clear();
                _heldConnects.Clear();
            }
            foreach (var session in sessions)
            {
                session.DetachPushTarget(this);
                if (ReferenceEquals(session.Owner, this))
                {
                    session.Owner = null;
                }
            }
            foreach (var pending in held)
            {
                pending.Session.AbandonConnect(pending.Held);
            }
        }
    }

    private readonly record struct Outgoing(BayeuxReply? Reply, EncodedMessage? Event)
    {
        public Outgoing(BayeuxReply reply) : this(reply, null) { }

        public Outgoing(EncodedMessage message) : this(null, message) { }
    }
}
