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
    private ClientPosition? _position;
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
    /// How far this subscription is up to date in the server's history (<c>epoch:offset</c>): the position of the
    /// last message it received, or where it started. After a re-handshake the client re-subscribes from here and
    /// the server replays what was missed. Null when the server keeps no history for the channel.
    /// </summary>
    public string? Position
    {
        get { lock (_positionGate) { return _position?.ToString(); } }
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

    internal ClientPosition? CurrentPosition
    {
        get { lock (_positionGate) { return _position; } }
    }

    /// <summary>Starts from <paramref name="since"/>, a position the application kept, before the subscribe is sent.</summary>
    internal void StartFrom(ClientPosition since)
    {
        lock (_positionGate)
        {
            _position = since;
        }
    }

    /// <summary>
    /// Takes in a successful subscribe reply. A fresh subscription starts at the reply's position; a recovery that
    /// succeeded keeps its own, the replayed messages move it on; one that failed starts over at the reply's.
    /// </summary>
    internal void OnSubscribed(ClientPosition? start, bool askedRecovery, bool recovered, bool resubscribe)
    {
        lock (_positionGate)
        {
            if (start is { } position && (!askedRecovery || !recovered))
            {
                _position = !askedRecovery ? ClientPosition.Latest(_position, position) : position;
            }
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

    internal void Deliver(BayeuxMessage message)
    {
        if (!IsActive)
        {
            return;
        }

        if (ClientPosition.TryParse(message.Position, out var position))
        {
            lock (_positionGate)
            {
                // A message at or before where this subscription is was already handled (a replay that overlaps
                // what arrived live, or a redelivery): exactly once means dropping it here.
                if (_position is { } current && current.Epoch == position.Epoch && position.Offset <= current.Offset)
                {
                    return;
                }

                _position = position;
            }
        }

        _handler(message);
    }
}

/// <summary>The outcome of re-subscribing a <see cref="BayeuxSubscription"/> in a new session.</summary>
/// <param name="recovered">Whether every message missed meanwhile was replayed.</param>
public sealed class SubscriptionRecoveredEventArgs(bool recovered) : EventArgs
{
    /// <summary>True when nothing was lost; false when messages were (reload the state this subscription feeds).</summary>
    public bool Recovered { get; } = recovered;
}
