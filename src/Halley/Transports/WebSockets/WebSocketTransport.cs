using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.WebSockets;

/// <summary>
/// <c>websocket</c>: each text frame is a Bayeux array; replies and events go back as arrays, several events
/// per frame when they were queued together. Without the ack extension, events are pushed as they arrive,
/// independently of the held <c>/meta/connect</c>. At the end of its lifetime
/// (<see cref="HalleyOptions.MaxConnectionLifetime"/>) a socket answers its held connects with advice to reconnect
/// at once, sends what it has, and closes normally; its sessions live on for the client's next connection.
/// </summary>
internal sealed partial class WebSocketTransport(BayeuxProcessor processor, BrowserCookie browserCookie, HalleyMetrics metrics, LiveConnections liveConnections, IOptions<HalleyOptions> options, ILogger<WebSocketTransport> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var browserId = browserCookie.Read(context.Request);
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        await RunAsync(socket, browserId, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves Bayeux on an accepted <paramref name="socket"/> until it closes; used by both ways of accepting.
    /// The shared sweep ends it at the end of its lifetime, and with <paramref name="sendPing"/> also pings it after
    /// each heartbeat interval without a send (the framework's WebSocket has no ping API, so only the
    /// connection-level path can).
    /// </summary>
    public async Task RunAsync(WebSocket socket, string? browserId, CancellationToken aborted, Func<CancellationToken, Task>? sendPing = null)
    {
        metrics.ConnectionOpened(ConnectionTypes.WebSocket);
        try
        {
            var live = new Liveness(liveConnections, sendPing);
            var connection = new WebSocketConnection(socket, browserId, processor, options.Value, logger, live);
            await connection.RunAsync(aborted).ConfigureAwait(false);
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

        [LoggerMessage(22, LogLevel.Error, "WebSocket send loop failed; the socket is aborted", EventName = "WebSocketFlushFailed")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }

    /// <summary>
    /// One accepted socket: a read loop that processes batches, and flushes, started on demand and one at a
    /// time, that own all sends (the lifetime's close frame included).
    /// </summary>
    private sealed class WebSocketConnection : IPushTarget, ILiveConnection, ISessionCarrier
    {
        // Replies waiting for the writer; a client that sends without ever reading is cut off past this.
        private const int MaxPendingOutgoing = 4096;
        private const int ReceiveChunkSize = 4096;

        private readonly WebSocket _socket;
        private readonly BayeuxProcessor _processor;
        private readonly HalleyOptions _options;
        private readonly ILogger _logger;
        private readonly TransportContext _context;
        private readonly Lock _gate = new();
        // Usually one session and one held connect per socket: lists stay smaller than sets.
        private List<Outgoing> _outgoing = [];
        private readonly List<BayeuxSession> _boundSessions = [];
        private readonly List<BayeuxSession> _pushSessions = [];
        private readonly List<PendingConnect> _heldConnects = [];
        private CancellationToken _aborted;
        private readonly Liveness _live;
        private List<Outgoing>? _flushItems;
        private List<EncodedMessage>? _flushEvents;
        // _dirty: something was queued since the flush last looked. _flushing: a flush is running.
        private int _dirty;
        private int _flushing;
        private bool _closed;
        // The end of the lifetime, under _gate: requested by the sweep; started once no frame is being processed
        // (frames read after the request are dropped); carried out by the next flush, which detaches the push
        // sessions and sends the close frame after the last data frame.
        private bool _closeRequested;
        private bool _processingFrame;
        private bool _closeOnFlush;
        // When the client has still not answered the close frame, the sweep aborts the socket (0: not closing).
        private long _abortAt;

        public WebSocketConnection(WebSocket socket, string? browserId, BayeuxProcessor processor, HalleyOptions options, ILogger logger, Liveness live)
        {
            _live = live;
            _socket = socket;
            _processor = processor;
            _options = options;
            _logger = logger;
            _context = new TransportContext
            {
                ConnectionType = ConnectionTypes.WebSocket,
                BrowserId = browserId,
                Carrier = this,
            };
        }

        /// <summary>
        /// Starts a flush unless one is running. There is no resident writer loop: an idle connection holds no
        /// writer state, buffer or signal, and a flush ends as soon as nothing is left to send.
        /// </summary>
        public void MessagesAvailable()
        {
            Volatile.Write(ref _dirty, 1);
            if (Interlocked.Exchange(ref _flushing, 1) == 0)
            {
                _ = FlushAsync();
            }
        }

        /// <summary>
        /// Nothing to do: the socket stays open for its client and its other sessions, and its drains find nothing
        /// for a session it no longer pushes (the client learns of an ended session from its next reply).
        /// </summary>
        public void Released()
        {
        }

        public void OnSweep(long now)
        {
            switch (_live.Clock.Check(now))
            {
                case LiveDue.Heartbeat when _live.CanPing:
                    _ = _live.PingAsync(_aborted);
                    break;
                case LiveDue.Close:
                    RequestLifetimeClose();
                    break;
            }
            var abortAt = Volatile.Read(ref _abortAt);
            if (abortAt != 0 && now >= abortAt)
            {
                // The close frame went out and the client never answered: stop waiting for it.
                _socket.Abort();
            }
        }

        public async Task RunAsync(CancellationToken aborted)
        {
            _aborted = aborted;
            _live.Start(this);
            try
            {
                await ReadLoopAsync(aborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                Log.Failed(_logger, ex);
            }
            finally
            {
                Release();
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
                if (!TryBeginFrame())
                {
                    // Closing at the end of the lifetime: the reply could not be sent after the close frame, so the
                    // frame is not acted on either; the client sends it again on its next connection.
                    continue;
                }
                try
                {
                    await ProcessFrameAsync(frame!, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    EndFrame();
                }
            }
        }

        private bool TryBeginFrame()
        {
            lock (_gate)
            {
                if (_closeRequested)
                {
                    return false;
                }
                _processingFrame = true;
                return true;
            }
        }

        private void EndFrame()
        {
            bool endLifetime;
            lock (_gate)
            {
                _processingFrame = false;
                endLifetime = _closeRequested && !_closed;
            }
            if (endLifetime)
            {
                EndLifetime();
            }
        }

        /// <summary>Called by the sweep when the lifetime is over; the close starts now, or when the frame being processed is done.</summary>
        private void RequestLifetimeClose()
        {
            lock (_gate)
            {
                if (_closed || _closeRequested)
                {
                    return;
                }
                _closeRequested = true;
                if (_processingFrame)
                {
                    return;
                }
            }
            EndLifetime();
        }

        /// <summary>
        /// Answers every held connect with advice to reconnect at once (what a delivery or a timeout was about to
        /// answer becomes that too), then has the flush send the rest and close.
        /// </summary>
        private void EndLifetime()
        {
            PendingConnect[] held;
            lock (_gate)
            {
                held = [.. _heldConnects];
                _heldConnects.Clear();
            }
            var items = new List<Outgoing>(held.Length);
            foreach (var pending in held)
            {
                pending.Held.TryComplete(ConnectOutcome.ConnectionClosing);
                var outcome = pending.Held.Outcome.Result;
                if (outcome is ConnectOutcome.Messages or ConnectOutcome.Timeout)
                {
                    outcome = ConnectOutcome.ConnectionClosing;
                }
                var events = new List<EncodedMessage>();
                items.Add(new Outgoing(_processor.CompleteConnect(pending, outcome, events)));
                foreach (var message in events)
                {
                    items.Add(new Outgoing(message));
                }
            }
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }
                _outgoing.AddRange(items);
                _closeOnFlush = true;
            }
            MessagesAvailable();
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

        /// <inheritdoc />
        public void SessionUsed(BayeuxSession session)
        {
            lock (_gate)
            {
                if (_closed || _boundSessions.Contains(session))
                {
                    return;
                }
                _boundSessions.Add(session);
                // Listed before attaching: attaching wakes this connection when messages are already queued, and
                // the flush that wake starts drains only the sessions listed here.
                _pushSessions.Add(session);
            }
            if (!session.AttachPushTarget(this))
            {
                lock (_gate)
                {
                    _pushSessions.Remove(session);
                }
            }
        }

        private async Task FlushAsync()
        {
            // One flush runs at a time, so it reuses the connection's two lists; they exist from the first flush on.
            var items = _flushItems ??= [];
            var events = _flushEvents ??= [];
            try
            {
                while (true)
                {
                    if (Interlocked.Exchange(ref _dirty, 0) == 0)
                    {
                        // Nothing new. A full fence (not a plain write) before re-reading _dirty: a wake-up that saw
                        // this flush still running started none, so look once more and carry on if one came.
                        Interlocked.Exchange(ref _flushing, 0);
                        if (Volatile.Read(ref _dirty) == 0 || Interlocked.Exchange(ref _flushing, 1) == 1)
                        {
                            return;
                        }
                        continue;
                    }
                    var close = false;
                    lock (_gate)
                    {
                        // Swap the producers' list for the flush's empty one, and remember which list the flush
                        // now owns: the next flush must start from that one, never from the list producers append to.
                        (items, _outgoing) = (_outgoing, items);
                        _flushItems = items;
                        if (_closeOnFlush)
                        {
                            // Drain and detach in one step per session: a message either goes out before the close
                            // frame or stays queued for the client's next connection.
                            foreach (var session in _pushSessions)
                            {
                                session.DrainAndDetach(this, events);
                            }
                            _pushSessions.Clear();
                            _closeOnFlush = false;
                            close = true;
                        }
                        else
                        {
                            foreach (var session in _pushSessions)
                            {
                                session.Drain(this, events);
                            }
                        }
                        if (_closed)
                        {
                            return;
                        }
                    }
                    if (items.Count == 0 && events.Count == 0)
                    {
                        if (close)
                        {
                            await CloseForLifetimeAsync().ConfigureAwait(false);
                            return;
                        }
                        continue;
                    }
                    // The common case of a fan-out, one event and nothing else, sends the engine's shared frame.
                    PooledBufferWriter? pooled = null;
                    var frame = items.Count == 0 && events.Count == 1 ? events[0].Frame : BuildFrame(items, events, out pooled);
                    items.Clear();
                    events.Clear();
                    try
                    {
                        var send = _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _aborted);
                        // Await (and so allocate this method's state) only when the socket pushes back.
                        if (send.IsCompletedSuccessfully)
                        {
                            send.GetAwaiter().GetResult();
                        }
                        else
                        {
                            await send.ConfigureAwait(false);
                        }
                        _live.Sent();
                    }
                    finally
                    {
                        pooled?.Dispose();
                    }
                    if (close)
                    {
                        await CloseForLifetimeAsync().ConfigureAwait(false);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
            {
                // The socket closed under the flush; the read loop reports why. Leave _flushing set: nothing more is sent.
            }
            catch (Exception ex)
            {
                // A bug, not the network. A flush that died silently would leave _flushing set and the client waiting
                // forever for replies; cut the socket instead, so the client reconnects and its session carries on.
                Log.FlushFailed(_logger, ex);
                _socket.Abort();
            }
        }

        /// <summary>
        /// Sends the close frame after everything else (the caller is the flush, so no send can follow: _flushing
        /// stays set). The read loop then sees the client's close and releases the connection.
        /// </summary>
        private async Task CloseForLifetimeAsync()
        {
            Log.Closed(_logger, "lifetime ended");
            Volatile.Write(ref _abortAt, _live.CloseDeadline());
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "connection lifetime ended", _aborted).ConfigureAwait(false);
        }

        private static ReadOnlyMemory<byte> BuildFrame(List<Outgoing> items, List<EncodedMessage> events, out PooledBufferWriter pooled)
        {
            pooled = new PooledBufferWriter(ReceiveChunkSize);
            using var json = new Utf8JsonWriter(pooled);
            WriteFrame(json, items, events);
            return pooled.WrittenMemory;
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
                _closed = true;
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
            _live.Stop(this);
        }
    }

    /// <summary>
    /// A connection's heartbeat and lifetime: when it last sent, when it must close, and how to ping it (when it
    /// can be pinged). Registered with the shared sweep.
    /// </summary>
    private sealed class Liveness(LiveConnections connections, Func<CancellationToken, Task>? sendPing)
    {
        // How long a client may take to answer the server's close frame before the socket is aborted.
        private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

        public LiveClock Clock { get; } = connections.StartClock();

        public bool CanPing => sendPing is not null;

        /// <summary>When a close frame sent now must have been answered.</summary>
        public long CloseDeadline() => connections.Now + connections.ToTicks(CloseHandshakeTimeout);

        public void Start(ILiveConnection connection) => connections.Add(connection);

        public void Stop(ILiveConnection connection) => connections.Remove(connection);

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

    private readonly record struct Outgoing(BayeuxReply? Reply, EncodedMessage? Event)
    {
        public Outgoing(BayeuxReply reply) : this(reply, null) { }

        public Outgoing(EncodedMessage message) : this(null, message) { }
    }
}
