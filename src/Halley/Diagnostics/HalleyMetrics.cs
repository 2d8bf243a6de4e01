using System.Diagnostics.Metrics;

namespace Halley.Diagnostics;

/// <summary>Halley's instruments, on the meter named <see cref="MeterName"/>.</summary>
public sealed class HalleyMetrics : IDisposable
{
    /// <summary>The name of Halley's <see cref="Meter"/>, for OpenTelemetry or dotnet-counters.</summary>
    public const string MeterName = "Halley";

    private readonly Meter _meter;
    private readonly Counter<long> _published;
    private readonly Counter<long> _delivered;
    private readonly UpDownCounter<long> _sessions;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _sessionsDropped;
    private readonly Counter<long> _connectionsRefused;
    private readonly Counter<long> _subscribersTold;
    private readonly Counter<long> _authDenied;
    private readonly Counter<long> _limitsExceeded;

    /// <summary>Creates the instruments through the host's meter factory.</summary>
    public HalleyMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _published = _meter.CreateCounter<long>("halley.messages.published", description: "Messages published to broadcast channels.");
        _delivered = _meter.CreateCounter<long>("halley.messages.delivered", description: "Messages queued to subscriber sessions on this node.");
        _sessions = _meter.CreateUpDownCounter<long>("halley.sessions.active", description: "Bayeux sessions alive on this node.");
        _connections = _meter.CreateUpDownCounter<long>("halley.connections.active", description: "Open connections by transport.");
        _sessionsDropped = _meter.CreateCounter<long>("halley.sessions.dropped", description: "Sessions ended by the server: expired, over their queue limit, or disconnected through the backend API.");
        _subscribersTold = _meter.CreateCounter<long>("halley.messages.lost", description: "Subscribers told that messages of their channels were lost on the way to this node and history could not replay them (a cluster engine's dropped subscription, or a store that lost its data): each ends its delivery so its client resumes.");
        _connectionsRefused = _meter.CreateCounter<long>("halley.connections.refused", description: "Connections and streams refused before they opened, by transport and reason: origin (not allowed by Halley:Cors:AllowedOrigins), authentication (a bad connection token, or none where one is required) or authorizer (a connection authorizer refused).");
        _authDenied = _meter.CreateCounter<long>("halley.auth.denied", description: "Requests refused by authentication or channel authorization, by operation (connect, handshake, subscribe, publish, history, refresh, api) and reason.");
        _limitsExceeded = _meter.CreateCounter<long>("halley.limits.exceeded", description: "Requests, messages and connections refused by a limit of Halley:Limits (or MaxMessageSize, MaxSubscriptionsPerSession, Streaming:MaxChannelsPerRequest), by limit.");
    }

    internal void Published() => _published.Add(1);

    internal void MessagesLost(int subscribers) => _subscribersTold.Add(subscribers);

    internal void Delivered(int count) => _delivered.Add(count);

    internal void SessionOpened() => _sessions.Add(1);

    internal void SessionClosed() => _sessions.Add(-1);

    internal void SessionDropped(string reason) => _sessionsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void ConnectionOpened(string transport) => _connections.Add(1, new KeyValuePair<string, object?>("transport", transport));

    internal void ConnectionClosed(string transport) => _connections.Add(-1, new KeyValuePair<string, object?>("transport", transport));

    internal void ConnectionRefused(string transport, string reason) =>
        _connectionsRefused.Add(1, new KeyValuePair<string, object?>("transport", transport), new KeyValuePair<string, object?>("reason", reason));

    internal void AuthDenied(string operation, string reason) =>
        _authDenied.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("reason", reason));

    internal void LimitExceeded(string limit) => _limitsExceeded.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
