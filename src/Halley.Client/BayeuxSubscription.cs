using Halley.Client.Internal;

namespace Halley.Client;

/// <summary>
/// A live subscription made by <see cref="BayeuxClient.SubscribeAsync(string, Action{BayeuxMessage}, CancellationToken)"/>. Disposing it unsubscribes;
/// the client re-subscribes it by itself after a re-handshake until then.
/// </summary>
public sealed class BayeuxSubscription : IAsyncDisposable
{
    private readonly BayeuxClient _client;
    private readonly Action<BayeuxMessage> _handler;
    private readonly Lock _positionGate = new();
    private string? _position;
    // The client's arrival number (InboundMessage.Arrival) of what set _position; 0 for a position the application gave.
    private long _positionArrival;
    private int _active = 1;

    internal BayeuxSubscription(BayeuxClient client, ChannelPattern pattern, Action<BayeuxMessage> handler)
    {
        _client = client;
        Pattern = pattern;
        _handler = handler;
    }

    /// <summary>The subscribed channel as given, possibly a wildcard (<c>/a/*</c>, <c>/a/**</c>).</summary>
    public string Channel => Pattern.Pattern;

    /// <summary>False once unsubscribed; no message reaches the handler after that.</summary>
    public bool IsActive => Volatile.Read(ref _active) == 1;

    internal ChannelPattern Pattern { get; }

    /// <summary>
    /// How far this subscription is up to date in the server's history: the position of the last message for it the
    /// client received (in arrival order; possibly not yet handed to the handler), or where it started. After a
    /// re-handshake the client re-subscribes from here and the server replays what was missed. Null when the server
    /// keeps no history for the channel.
    /// </summary>
    /// <remarks>
    /// An opaque string (today <c>epoch:offset</c>; its form may change): store it and pass it back as it is, to
    /// <see cref="BayeuxClient.SubscribeAsync(string, Action{BayeuxMessage}, string?, CancellationToken)"/>. Do not parse or compare it.
    /// </remarks>
    public string? Position
    {
        get { lock (_positionGate) { return _position; } }
    }

    /// <summary>
    /// Whether the last subscribe that asked for recovery (a re-subscribe after a lost session, or a subscribe
    /// with a position) got every missed message; null until one has. When false, messages were lost (outside
    /// the server's retention, or its history restarted): reload the state this subscription feeds.
    /// </summary>
    public bool? Recovered { get; private set; }

    /// <summary>
    /// Raised after the client re-subscribed this subscription in a new session, with whether it recovered
    /// every message missed meanwhile. Raised on the client's connect loop: return quickly.
    /// </summary>
    public event EventHandler<SubscriptionRecoveredEventArgs>? Resubscribed;

    /// <summary>The position and the arrival number of what set it (see <see cref="InboundMessage.Arrival"/>).</summary>
    internal (string? Position, long Arrival) CurrentPosition
    {
        get { lock (_positionGate) { return (_position, _positionArrival); } }
    }

    /// <summary>Starts from <paramref name="since"/>, a position the application kept, before the subscribe is sent.</summary>
    internal void StartFrom(string since)
    {
        lock (_positionGate)
        {
            _position = since;
        }
    }

    /// <summary>
    /// An event for this subscription with <paramref name="position"/> arrived (called in arrival order, by the reading
    /// thread, before the event is queued for the handler): it is now the last position received.
    /// </summary>
    internal void Received(string position, long arrival) => Take(position, arrival);

    /// <summary>
    /// Takes in a successful subscribe reply. A fresh subscription starts at the reply's position; a recovery that
    /// succeeded keeps its own, the replayed messages move it on; one that failed starts over at the reply's. Either
    /// way only if nothing arrived after the reply meanwhile: the last position received wins, in arrival order.
    /// </summary>
    internal void OnSubscribed(InboundMessage reply, bool askedRecovery, bool resubscribe)
    {
        var recovered = reply.HalleyRecovered;
        if (reply.HalleyPosition is { } position && (!askedRecovery || !recovered))
        {
            Take(position, reply.Arrival);
        }

        if (!askedRecovery)
        {
            return;
        }

        Recovered = recovered;
        if (resubscribe)
        {
            Resubscribed?.Invoke(this, new SubscriptionRecoveredEventArgs(recovered));
        }
    }

    /// <summary>
    /// Stops delivery to this subscription's handler at once and, when no other subscription of this
    /// client uses the same channel, tells the server to stop sending it.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for the server's reply.</param>
    /// <returns>A task that completes when the server confirmed (or nothing had to be sent).</returns>
    /// <exception cref="BayeuxException">The server refused the unsubscribe or the connection failed.</exception>
    public Task UnsubscribeAsync(CancellationToken cancellationToken = default) =>
        Interlocked.Exchange(ref _active, 0) == 1
            ? _client.UnsubscribeAsync(this, cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// Unsubscribes like <see cref="UnsubscribeAsync"/>, but does not throw when the server cannot be told:
    /// delivery to the handler stops either way, and a lost session has no subscriptions left to remove.
    /// </summary>
    /// <returns>A task that completes when the unsubscribe was sent and answered, or failed.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await UnsubscribeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BayeuxException or TimeoutException or InvalidOperationException)
        {
            // See the summary: nothing useful to do with it here.
        }
    }

    /// <summary>Stops delivery without telling the server (the session is gone, or the subscribe failed).</summary>
    internal void Deactivate() => Volatile.Write(ref _active, 0);

    /// <summary>
    /// Hands <paramref name="message"/> to the handler. Nothing is dropped by position: the server replays exactly what
    /// the session missed (docs/recovery.md), and positions are opaque to the client.
    /// </summary>
    internal void Deliver(BayeuxMessage message)
    {
        if (IsActive)
        {
            _handler(message);
        }
    }

    private void Take(string position, long arrival)
    {
        lock (_positionGate)
        {
            // Arrival numbers, not positions, say which is later: the reply's continuation and the reading thread race.
            if (arrival > _positionArrival)
            {
                _position = position;
                _positionArrival = arrival;
            }
        }
    }
}
