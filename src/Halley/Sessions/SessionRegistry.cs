using System.Collections.Concurrent;
using System.Security.Cryptography;
using Halley.Diagnostics;
using Halley.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>Every live session of this node, by client id, and the one sweep that times them all.</summary>
internal sealed partial class SessionRegistry
{
    private readonly ConcurrentDictionary<string, BayeuxSession> _sessions = new(StringComparer.Ordinal);
    private readonly DueTable<BayeuxSession> _sweepTable = new();
    // The sessions one sweep found due; reused, as one sweep runs at a time (the lock is for callers other than the sweeper).
    private readonly List<(BayeuxSession Item, DueSlot Slot, long Seen)> _due = [];
    private readonly Lock _sweepTurn = new();
    private readonly MessageHub _engine;
    private readonly HalleyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionRegistry> _logger;

    public SessionRegistry(IOptions<HalleyOptions> options, MessageHub engine, HalleyMetrics metrics, TimeProvider time, ILogger<SessionRegistry> logger)
    {
        Options = options.Value;
        _engine = engine;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        MaxIntervalTicks = ToTicks(Options.MaxInterval);
        MaxLazyTicks = ToTicks(Options.MaxLazyTimeout);
    }

    public HalleyOptions Options { get; }

    public long Now => _time.GetTimestamp();

    public long MaxIntervalTicks { get; }

    public long MaxLazyTicks { get; }

    public int Count => _sessions.Count;

    public long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);

    /// <summary>
    /// Creates a session. <paramref name="admittedBy"/> is the limits that admitted it from <paramref name="address"/>: the
    /// session is given back to them when it ends.
    /// </summary>
    public BayeuxSession Create(string? browserId, ISessionCarrier? owner, Security.Limits.ClientLimits? admittedBy = null, System.Net.IPAddress? address = null)
    {
        while (true)
        {
            var session = new BayeuxSession(this, NewId(), NewId(), browserId, owner, Now + MaxIntervalTicks) { AdmittedBy = admittedBy, RemoteAddress = address };
            // 128 random bits make a collision practically impossible; the loop makes it certainly harmless.
            if (_sessions.TryAdd(session.Id, session))
            {
                session.JoinSweep(_sweepTable);
                _metrics.SessionOpened();
                Log.SessionCreated(_logger, session.Id);
                return session;
            }
        }
    }

    public bool TryGet(string? id, out BayeuxSession session)
    {
        if (id is not null && _sessions.TryGetValue(id, out var found))
        {
            session = found;
            return true;
        }
        session = null!;
        return false;
    }

    /// <summary>Ends <paramref name="session"/>: removes it, its subscriptions, and releases its held connect.</summary>
    public void Terminate(BayeuxSession session, TerminationReason reason)
    {
        var subscriptions = session.MarkTerminated(reason);
        if (session.LeaveSweep() is { IsAssigned: true } slot)
        {
            _sweepTable.Remove(slot);
        }
        if (!_sessions.TryRemove(new KeyValuePair<string, BayeuxSession>(session.Id, session)))
        {
            return;
        }
        foreach (var channel in subscriptions)
        {
            _engine.Unsubscribe(channel, session);
        }
        session.AdmittedBy?.SessionEnded(session.RemoteAddress);
        _metrics.SessionClosed();
        if (DroppedReasonTag(reason) is { } tag)
        {
            _metrics.SessionDropped(tag);
        }
        Log.SessionEnded(_logger, session.Id, reason);
    }

    /// <summary>
    /// The <c>reason</c> tag of <c>halley.sessions.dropped</c> for a session the server ended, or null when the client
    /// ended it (a <c>/meta/disconnect</c> is not a drop). Each reason is named; a reason this switch does not know
    /// is counted as <c>other</c>, so a dashboard never blames it on a full queue.
    /// </summary>
    internal static string? DroppedReasonTag(TerminationReason reason) => reason switch
    {
        TerminationReason.Disconnected => null,
        TerminationReason.Expired => "expired",
        TerminationReason.QueueFull => "queue_full",
        TerminationReason.Kicked => "kicked",
        TerminationReason.MessagesLost => "messages_lost",
        TerminationReason.TokenExpired => "token_expired",
        _ => "other",
    };

    /// <summary>One pass over the sessions whose next deadline may have come (see <see cref="DueTable{T}"/>); run by <see cref="SessionSweeper"/>.</summary>
    public void Sweep()
    {
        lock (_sweepTurn)
        {
            var now = Now;
            // Only the sessions the table says may be due: an idle session costs the sweep 8 bytes read in order.
            _sweepTable.CollectDue(now, _due);
            try
            {
                foreach (var (session, _, _) in _due)
                {
                    if (session.SweepIsExpired(now))
                    {
                        Terminate(session, TerminationReason.Expired);
                    }
                }
            }
            finally
            {
                _due.Clear();
            }
        }
    }

    /// <summary>Sessions holding a slot of the sweep's table (tests: it must not outgrow the live sessions).</summary>
    internal int SweepSlots => _sweepTable.Count;

    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Session {ClientId} created", EventName = "SessionCreated")]
        public static partial void SessionCreated(ILogger logger, string clientId);

        [LoggerMessage(2, LogLevel.Debug, "Session {ClientId} ended: {Reason}", EventName = "SessionEnded")]
        public static partial void SessionEnded(ILogger logger, string clientId, TerminationReason reason);
    }
}
