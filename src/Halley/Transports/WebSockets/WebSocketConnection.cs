using System.Net.WebSockets;
using Halley.Engine;
using Halley.Protocol;
using Halley.Sessions;
using Microsoft.Extensions.Logging;

namespace Halley.Transports.WebSockets;

/// <summary>
/// One accepted socket: a read loop that processes batches, and flushes, started on demand and one at a
/// time, that own all sends (the lifetime's close frame included). Its parts, one file each: reading
/// (<c>.Reading.cs</c>), sending (<c>.Sending.cs</c>), held connects (<c>.HeldConnects.cs</c>) and the end of its
/// lifetime (<c>.Closing.cs</c>); this file binds sessions and releases them.
/// </summary>
internal sealed partial class WebSocketConnection : IPushTarget, ILiveConnection, ISessionCarrier, IDeliveryWork
{
    private readonly WebSocket _socket;
    // The connection-level path writes text frames straight to the transport; null: through the framework's WebSocket.
    private readonly IWebSocketFrameSink? _frames;
    private readonly BayeuxProcessor _processor;
    private readonly HalleyOptions _options;
    private readonly ILogger _logger;
    private readonly TransportContext _context;
    private readonly Security.Limits.ClientLimits _limits;
    private readonly Lock _gate = new();
    // Usually one session per socket: lists stay smaller than sets.
    private readonly List<BayeuxSession> _boundSessions = [];
    private readonly List<BayeuxSession> _pushSessions = [];
    private CancellationToken _aborted;
    private readonly WebSocketLiveness _live;
    private bool _closed;
    // When the message being read must have ended (Halley:Limits:MessageReadTimeout); 0 between messages.
    private long _messageDeadline;

    public WebSocketConnection(WebSocket socket, IWebSocketFrameSink? frames, WebSocketPeer peer, System.Security.Claims.ClaimsPrincipal? user, BayeuxProcessor processor, HalleyOptions options, ILogger logger, WebSocketLiveness live)
    {
        _limits = peer.Limits;
        _live = live;
        _socket = socket;
        _frames = frames;
        _processor = processor;
        _options = options;
        _logger = logger;
        _context = new TransportContext
        {
            ConnectionType = ConnectionTypes.WebSocket,
            BrowserId = peer.BrowserId,
            User = user,
            RemoteAddress = peer.RemoteAddress,
            Carrier = this,
        };
    }

    /// <summary>
    /// Nothing to do: the socket stays open for its client and its other sessions, and its drains find nothing
    /// for a session it no longer pushes (the client learns of an ended session from its next reply).
    /// </summary>
    public void Released()
    {
    }

    public long OnSweep(long now)
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
        if (_lifetime.AnswerOverdue(now))
        {
            // The close frame went out and the client never answered: stop waiting for it.
            _socket.Abort();
        }
        var messageDeadline = Volatile.Read(ref _messageDeadline);
        if (messageDeadline != 0 && now >= messageDeadline)
        {
            _limits.Exceeded(Security.Limits.ClientLimits.Names.MessageReadTime);
            _socket.Abort();
        }
        return Math.Min(Math.Min(_live.Clock.NextDue(), _lifetime.AbortAt), messageDeadline == 0 ? long.MaxValue : messageDeadline);
    }

    private void MessageStarted()
    {
        var deadline = _live.DeadlineIn(_limits.MessageReadTimeout);
        Volatile.Write(ref _messageDeadline, deadline);
        _live.DueBy(this, deadline);
    }

    private void MessageEnded() => Volatile.Write(ref _messageDeadline, 0);

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
            WebSocketLog.Failed(_logger, ex);
        }
        finally
        {
            Release();
        }
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
