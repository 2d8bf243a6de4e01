using System.Text.Json;
using System.Threading.Channels;
using Halley.Client.Internal;

namespace Halley.Client;

/// <summary>
/// A Bayeux 1.0 client (the protocol of Halley, CometD and Faye) over WebSocket or long-polling.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="ConnectAsync"/> handshakes and starts a background <c>/meta/connect</c> loop that keeps the
/// session alive and, for long-polling, fetches events. Events are handed to subscription handlers on one
/// dispatch loop, in the order they arrived.
/// </para>
/// <para>
/// The client recovers by itself: when a WebSocket drops it resumes the session on a new one, and when the
/// session is gone (error 402, advice <c>handshake</c>, or the server is unreachable for a while) it
/// handshakes again with capped exponential backoff and re-subscribes every active subscription.
/// A connection the server closes normally after a working connect (as Halley does at the end of a connection's
/// lifetime) is no failure: the client comes back when the server's advice says, at once for <c>interval: 0</c>.
/// Advice <c>none</c> stops it. <see cref="StateChanged"/> reports each step.
/// </para>
/// <para>All members are safe to call from several threads at once.</para>
/// </remarks>
public sealed partial class BayeuxClient : IAsyncDisposable
{
    // Events waiting for handlers. Bounded so a slow handler cannot grow memory without limit: past this,
    // reading from the server pauses (back-pressure reaches the server through TCP) until handlers catch up.
    private const int EventQueueCapacity = 10_000;

    private const string BayeuxVersion = "1.0";

    private readonly BayeuxClientOptions _options;
    private readonly PendingRequests _pending = new();
    private readonly Channel<BayeuxMessage> _events;
    private readonly Task _dispatchLoop;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _gate = new();
    private readonly Sink _sink;
    private readonly Func<BayeuxClientOptions, ITransportSink, IClientTransport> _createTransport;
    private readonly TimeProvider _time; // the connect loop's pauses (advised interval, backoff)

    // Copy-on-write under _gate, so the dispatch loop reads it without a lock or a copy per message.
    private BayeuxSubscription[] _subscriptions = [];

    private BayeuxClientState _state = BayeuxClientState.Disconnected;
    private TaskCompletionSource _connected = NewSignal();
    // Completed when the state leaves Connected, replaced when it is Connected again: a request that failed with its
    // connection waits on it, so it is not sent again on that connection before the client noticed it is gone.
    private TaskCompletionSource _leftConnected = NewSignal();
    private IClientTransport? _transport;
    private string? _clientId;
    private string? _token;
    private Advice _advice = DefaultAdvice;
    // Set after a handshake or a failure: the next connect asks the server not to hold it (advice timeout 0),
    // so the client learns at once that the session is alive and can report Connected.
    private bool _confirmOnNextConnect;
    private bool _resumeOnNextConnect;
    // The session a handshake was requested for. A bare flag would outlive that session: a 402 that races the
    // connect loop's own recovery would then make it handshake a second time, leaving the new session (and any
    // message already delivered to it) behind.
    private string? _handshakeRequestedFor;
    private bool _disconnecting; // from DisconnectAsync's start until the session ended: no recovery meanwhile
    // The ack extension (BayeuxClientOptions.AcknowledgeMessages): whether the server agreed, and the number of
    // the last connect reply whose messages were received, sent back with the next connect.
    private bool _ackEnabled;
    private long _lastAck = -1;
    private long _arrivals; // numbers every message read from the server, in order (InboundMessage.Arrival)
    private CancellationTokenSource? _connectLoopStopping;
    private CancellationTokenSource? _heldConnect;
    private Task _connectLoop = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Creates a client; nothing is sent until <see cref="ConnectAsync"/>.</summary>
    /// <param name="options">The endpoint and settings. The client reads them as they are now.</param>
    public BayeuxClient(BayeuxClientOptions options)
        : this(options, CreateTransport)
    {
    }

    /// <summary>Lets tests control the clock of the connect loop's pauses.</summary>
    internal BayeuxClient(BayeuxClientOptions options, TimeProvider time)
        : this(options, CreateTransport, time)
    {
    }

    /// <summary>Lets tests put a scripted transport under the client's session logic, and control its pauses' clock.</summary>
    internal BayeuxClient(BayeuxClientOptions options, Func<BayeuxClientOptions, ITransportSink, IClientTransport> createTransport, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Endpoint, "options.Endpoint");
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "RequestTimeout must be positive.");
        }

        _ = options.Transport == BayeuxTransport.WebSocket
            ? WebSocketClientTransport.ToWebSocketUri(options.Endpoint) // validates the scheme now rather than at connect
            : options.Endpoint;

        _options = options;
        _createTransport = createTransport;
        _time = time ?? TimeProvider.System;
        _sink = new Sink(this);
        _events = Channel.CreateBounded<BayeuxMessage>(new BoundedChannelOptions(EventQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _dispatchLoop = Task.Run(DispatchLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// Raised on every change of <see cref="State"/>, in the order the changes were made, one at a time (usually on
    /// the thread that made the change; a change made while another is being raised is raised after it, on that
    /// thread). Exceptions from handlers are ignored.
    /// </summary>
    public event EventHandler<BayeuxClientStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Raised for every reply the server sends on a <c>/meta/</c> channel, the connect loop's included, as it arrives and
    /// before the client acts on it: each <c>/meta/connect</c> the server answers (at the end of its hold when nothing
    /// else ends it first) is the session's heartbeat, and the replies show what the server advised or refused. Raised
    /// on the thread that read the reply, so a handler must return quickly: reading from the server waits for it.
    /// Exceptions from handlers are ignored.
    /// </summary>
    public event EventHandler<BayeuxMetaReplyEventArgs>? MetaReplyReceived;

    /// <summary>The session id the server assigned at the last handshake; null while there is no session.</summary>
    public string? ClientId
    {
        get
        {
            lock (_gate)
            {
                return _clientId;
            }
        }
    }

    /// <summary>Where the client is in its session's life.</summary>
    public BayeuxClientState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    private static Advice DefaultAdvice { get; } = new(Advice.Retry, Interval: 0, Timeout: 20_000);

    /// <summary>
    /// Handshakes with the server and starts the background connect loop.
    /// </summary>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>A task that completes once the handshake succeeded.</returns>
    /// <exception cref="BayeuxException">The server refused the handshake, or could not be reached.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="BayeuxClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already connected or connecting.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        IClientTransport transport;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state != BayeuxClientState.Disconnected)
            {
                throw new InvalidOperationException($"The client is {_state}; call DisconnectAsync first.");
            }

            transport = _transport = _createTransport(_options, _sink);
        }

        SetState(BayeuxClientState.Handshaking);
        try
        {
            await HandshakeAsync(transport, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _transport = null;
            }

            await transport.DisposeAsync().ConfigureAwait(false);
            SetState(BayeuxClientState.Disconnected);
            throw;
        }

        // Connected before the loop starts, so a failure the loop sees at once is not overwritten.
        SetState(BayeuxClientState.Connected);
        var stopping = new CancellationTokenSource();
        lock (_gate)
        {
            _connectLoopStopping = stopping;
            _connectLoop = Task.Run(() => ConnectLoopAsync(transport, stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="channel"/>.
    /// </summary>
    /// <param name="channel">
    /// A channel (<c>/chat/room1</c>) or a wildcard: <c>/chat/*</c> for one more segment, <c>/chat/**</c> for any depth.
    /// </param>
    /// <param name="handler">
    /// Called for each matching event, on the client's single dispatch loop and in arrival order, so it should
    /// return quickly and must not block on this client's requests. Exceptions it throws are ignored so one
    /// handler cannot stop delivery to the others.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for the server's reply.</param>
    /// <returns>The subscription; dispose it to unsubscribe.</returns>
    /// <exception cref="ArgumentException">The channel is malformed or a <c>/meta/</c> channel.</exception>
    /// <exception cref="BayeuxException">The server refused (e.g. <c>403::…</c>) or the connection failed.</exception>
    /// <exception cref="InvalidOperationException">The client is not connected.</exception>
    public Task<BayeuxSubscription> SubscribeAsync(string channel, Action<BayeuxMessage> handler, CancellationToken cancellationToken = default) =>
        SubscribeAsync(channel, handler, since: null, cancellationToken);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to <paramref name="channel"/>, first replaying every message published
    /// after <paramref name="since"/> that the server still retains (docs/recovery.md).
    /// </summary>
    /// <param name="channel">A channel or a wildcard, as for <see cref="SubscribeAsync(string, Action{BayeuxMessage}, CancellationToken)"/>.</param>
    /// <param name="handler">Called for each replayed, then each live, matching event; see the other overload.</param>
    /// <param name="since">
    /// A position the application kept (a message's <see cref="BayeuxMessage.Position"/> or a subscription's
    /// <see cref="BayeuxSubscription.Position"/>), sent to the server exactly as given; null subscribes from now on.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for the server's reply.</param>
    /// <returns>
    /// The subscription; with <paramref name="since"/>, its <see cref="BayeuxSubscription.Recovered"/> says whether
    /// every missed message is being replayed.
    /// </returns>
    /// <exception cref="ArgumentException">The channel is malformed or a <c>/meta/</c> channel.</exception>
    /// <exception cref="BayeuxException">
    /// The server refused (e.g. <c>403::…</c>, or <c>400::invalid_position</c> for a <paramref name="since"/> it cannot
    /// read: the client sends the position as it is, never checking its form) or the connection failed.
    /// </exception>
    /// <exception cref="InvalidOperationException">The client is not connected.</exception>
    public async Task<BayeuxSubscription> SubscribeAsync(string channel, Action<BayeuxMessage> handler, string? since, CancellationToken cancellationToken = default)
    {
        var pattern = ChannelPattern.Parse(channel);
        ArgumentNullException.ThrowIfNull(handler);
        if (IsMeta(channel))
        {
            throw new ArgumentException("Meta channels cannot be subscribed to.", nameof(channel));
        }

        var start = since; // opaque: sent back exactly as the server gave it
        var subscription = new BayeuxSubscription(this, pattern, handler);
        if (start is not null)
        {
            subscription.StartFrom(start);
        }

        // Listed before the request, so an event that arrives ahead of the reply is not lost, and so a
        // re-handshake that happens meanwhile re-subscribes it.
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _subscriptions = [.. _subscriptions, subscription];
        }

        try
        {
            var reply = await SendInSessionAsync(
                clientId => SubscribeMessage(clientId, pattern.Pattern, start),
                retryIfSessionLost: false,
                resendIfClosedNormally: true,
                cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(reply, "/meta/subscribe", $"Subscribing to {channel} failed");
            subscription.OnSubscribed(reply, askedRecovery: start is not null, resubscribe: false);
            return subscription;
        }
        catch
        {
            subscription.Deactivate();
            RemoveSubscription(subscription);
            throw;
        }
    }

    /// <summary>
    /// Publishes <paramref name="data"/> on <paramref name="channel"/> and waits for the server to accept it.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A publish made while the client is recovering (<see cref="State"/> is <see cref="BayeuxClientState.Reconnecting"/>:
    /// its connection dropped, or it knows the server lost its session and is handshaking again) is not sent in the
    /// session that is gone: it waits until the client is <see cref="BayeuxClientState.Connected"/> again and goes out
    /// in the resumed or new session. It waits at most <see cref="BayeuxClientOptions.RequestTimeout"/>, and less when
    /// <paramref name="cancellationToken"/> is cancelled first; nothing is sent then.
    /// </para>
    /// <para>
    /// When the server has lost the session before the client knows (a restarted server, an expired session), the publish
    /// goes out in the old session and the server refuses it with <c>402::session_unknown</c>. The client then handshakes
    /// again and sends the publish once more, in the new session: the server did not act on the refused one, so nothing
    /// is published twice. Only if that second try fails too (or no new session comes) does the publish fail.
    /// </para>
    /// </remarks>
    /// <param name="channel">A concrete channel (no wildcard), not a <c>/meta/</c> channel.</param>
    /// <param name="data">
    /// The payload: a <see cref="JsonElement"/> or <see cref="JsonDocument"/> is sent as it is; any other
    /// object is serialized with <see cref="JsonSerializer"/> and the web defaults (camelCase names).
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for a session to send in, and for the server's reply.</param>
    /// <returns>A task that completes when the server replied <c>successful</c>.</returns>
    /// <exception cref="BayeuxException">The server refused (its <c>error</c> is in <see cref="BayeuxException.Error"/>) or the connection failed.</exception>
    /// <exception cref="TimeoutException">
    /// No reply within <see cref="BayeuxClientOptions.RequestTimeout"/>, or the client was recovering its session
    /// and did not get it back within that time.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The client is not connected.</exception>
    public async Task PublishAsync(string channel, object? data, CancellationToken cancellationToken = default)
    {
        ValidatePublishChannel(channel);
        var reply = await PublishCoreAsync(channel, data, resendIfClosedNormally: false, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(reply, channel, $"Publishing to {channel} failed");
    }

    /// <summary>
    /// Calls a service: publishes <paramref name="data"/> to a <c>/service/</c> channel and returns the
    /// <c>data</c> of the server's reply.
    /// </summary>
    /// <param name="serviceChannel">A channel under <c>/service/</c>, e.g. <c>/service/echo</c>.</param>
    /// <remarks>
    /// During recovery, and after a <c>402::session_unknown</c>, the call behaves as <see cref="PublishAsync"/> does: it
    /// waits for the new session, and a call the server refused for want of a session is made once more in the new one.
    /// </remarks>
    /// <param name="data">The request payload, serialized as for <see cref="PublishAsync"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for a session to send in, and for the server's reply.</param>
    /// <returns>The reply's <c>data</c>; a JSON <c>null</c> when the reply had none.</returns>
    /// <exception cref="BayeuxException">The service failed (its <c>error</c> is in <see cref="BayeuxException.Error"/>) or the connection failed.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="BayeuxClientOptions.RequestTimeout"/>.</exception>
    public async Task<JsonElement> CallAsync(string serviceChannel, object? data, CancellationToken cancellationToken = default)
    {
        ValidatePublishChannel(serviceChannel);
        if (!serviceChannel.StartsWith("/service/", StringComparison.Ordinal))
        {
            throw new ArgumentException("A service call goes to a /service/ channel.", nameof(serviceChannel));
        }

        var reply = await PublishCoreAsync(serviceChannel, data, resendIfClosedNormally: true, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(reply, serviceChannel, $"Calling {serviceChannel} failed");
        return reply.Data ?? MessageCodec.NullElement;
    }

    /// <summary>
    /// Ends the session: tells the server, stops the connect loop and closes the connection. Subscriptions
    /// end with the session (their handlers get nothing more); a later <see cref="ConnectAsync"/> starts a
    /// new session with none. Does nothing when already disconnected.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for the server's reply; the client disconnects locally anyway.</param>
    /// <returns>A task that completes once the connection is closed.</returns>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        IClientTransport? transport;
        string? clientId;
        CancellationTokenSource? stopping;
        Task loop;
        lock (_gate)
        {
            transport = _transport;
            stopping = _connectLoopStopping;
            loop = _connectLoop;
            if (transport is null)
            {
                return;
            }

            _disconnecting = true;
        }

        try
        {
            // The connect loop stops first, so it cannot take the server's reaction to our disconnect (a 402 on
            // its next connect, a closed socket) for a lost session and handshake again.
            if (stopping is not null)
            {
                await stopping.CancelAsync().ConfigureAwait(false);
            }

            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (_gate)
            {
                clientId = _clientId;
            }

            if (clientId is not null)
            {
                await SendRequestAsync(
                    transport,
                    new OutboundMessage { Channel = "/meta/disconnect", ClientId = clientId, Id = _pending.NextId() },
                    _options.RequestTimeout,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is BayeuxException or TimeoutException)
        {
            // The server forgets a silent session on its own; ending ours locally is what matters.
        }
        finally
        {
            stopping?.Dispose();
            await EndSessionAsync(transport).ConfigureAwait(false);
        }
    }

    /// <summary>Disconnects (best effort) and stops event dispatch. Events not yet dispatched are dropped.</summary>
    /// <returns>A task that completes when the client has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        using (var timeout = new CancellationTokenSource(_options.RequestTimeout))
        {
            try
            {
                await DisconnectAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Disposal must finish; the local shutdown in DisconnectAsync's finally has run.
            }
        }

        _events.Writer.TryComplete();
        await _disposing.CancelAsync().ConfigureAwait(false);

        // Not awaiting the dispatch loop: DisposeAsync may be called from inside a handler, which that
        // loop is running.
        _disposing.Dispose();
    }

    internal async Task UnsubscribeAsync(BayeuxSubscription subscription, CancellationToken cancellationToken)
    {
        RemoveSubscription(subscription);
        bool stillWanted;
        lock (_gate)
        {
            stillWanted = Array.Exists(_subscriptions, s => s.Channel == subscription.Channel);
            if (_state == BayeuxClientState.Disconnected)
            {
                return; // no session, nothing subscribed on the server
            }
        }

        if (stillWanted)
        {
            return; // another subscription of ours still needs the server to send this channel
        }

        var reply = await SendInSessionAsync(
            clientId => new OutboundMessage { Channel = "/meta/unsubscribe", ClientId = clientId, Subscription = subscription.Channel, Id = _pending.NextId() },
            retryIfSessionLost: false,
            resendIfClosedNormally: true,
            cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(reply, "/meta/unsubscribe", $"Unsubscribing from {subscription.Channel} failed");
    }

    private static IClientTransport CreateTransport(BayeuxClientOptions options, ITransportSink sink) =>
        options.Transport == BayeuxTransport.LongPolling
            ? new LongPollingClientTransport(options, sink)
            : new WebSocketClientTransport(options, sink);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static bool IsMeta(string channel) => channel.StartsWith("/meta/", StringComparison.Ordinal);

    private static void ValidatePublishChannel(string channel)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (!ChannelPattern.IsWellFormed(channel, allowWildcard: false) || IsMeta(channel))
        {
            throw new ArgumentException($"'{channel}' cannot be published to: it must be a concrete channel (no wildcard) outside /meta/.", nameof(channel));
        }
    }

    private void ThrowIfFailed(InboundMessage reply, string channel, string what)
    {
        if (reply.Successful)
        {
            return;
        }

        var error = reply.Error;
        throw new BayeuxException(error is null ? $"{what}." : $"{what}: {error}", error, channel);
    }

    private Task<InboundMessage> PublishCoreAsync(string channel, object? data, bool resendIfClosedNormally, CancellationToken cancellationToken)
    {
        var json = MessageCodec.ToJson(data);
        return SendInSessionAsync(
            clientId => new OutboundMessage { Channel = channel, ClientId = clientId, Data = json, Id = _pending.NextId() },
            retryIfSessionLost: true,
            resendIfClosedNormally,
            cancellationToken);
    }
}
