using Halley.Client.Internal;

namespace Halley.Client;

/// <summary>
/// A live subscription made by <see cref="BayeuxClient.SubscribeAsync"/>. Disposing it unsubscribes;
/// the client re-subscribes it by itself after a re-handshake until then.
/// </summary>
public sealed class BayeuxSubscription : IAsyncDisposable
{
    private readonly BayeuxClient _client;
    private readonly Action<BayeuxMessage> _handler;
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
        if (IsActive)
        {
            _handler(message);
        }
    }
}
