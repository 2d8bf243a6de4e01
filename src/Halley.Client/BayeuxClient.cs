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
public sealed class BayeuxClient : IAsyncDisposable
{
    // Events waiting for handlers. Bounded so a slow handler cannot grow memory without limit: past this,
    // reading from the server pauses (back-pressure reaches the server through TCP) until handlers catch up.
    private const int EventQueueCapacity = 10_000;

    private const string BayeuxVersion = "1.0";

    // How many unsuccessful connect replies advising "retry" we accept before handshaking anyway, so a
    // server that keeps refusing without saying why cannot hold the client in a retry loop forever.
    private const int RefusalsBeforeHandshake = 3;

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
    // State changes waiting to be raised, in the order they were made; see RaiseStateChanged.
    private readonly Queue<BayeuxClientStateChangedEventArgs> _stateChanges = new();
    private bool _raisingStateChanges;
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

    /// <summary>
    /// Sends the message in a live session and awaits its reply. A request made while the client knows its session is
    /// lost (or its connection is down) waits until the client is <see cref="BayeuxClientState.Connected"/> again, so it
    /// goes out in the new session rather than failing with 402. With <paramref name="retryIfSessionLost"/>, a request
    /// the server refused with a lost session (the server forgot it before the client knew) is sent once more in the
    /// new session: refused for want of a session, it was never acted on, so sending it again cannot duplicate it.
    /// With <paramref name="resendIfClosedNormally"/>, a request still unanswered when the server closed the connection
    /// normally (a WebSocket at the end of its lifetime) is sent once more on the next connection, when the session
    /// resumed there: the server may or may not have acted on it, so only requests that can be repeated (subscribe,
    /// unsubscribe, service calls) ask for this; a publish would risk a duplicate (the server keeps no per-session
    /// dedup of publishes) and fails as before. A request the connection could not even send (it had closed, however)
    /// is sent on the next connection whatever it is, as one made during recovery would be.
    /// </summary>
    private async Task<InboundMessage> SendInSessionAsync(Func<string, OutboundMessage> create, bool retryIfSessionLost, bool resendIfClosedNormally, CancellationToken cancellationToken)
    {
        var (transport, clientId, leftConnected) = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
        InboundMessage reply;
        try
        {
            reply = await SendRequestAsync(transport, create(clientId), _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException ex) when (ex.NotSent || (resendIfClosedNormally && ex.ClosedNormally))
        {
            // Its connection is gone: once the client noticed (it may not have yet, when the send found the socket
            // closed), wait for the next one. Nothing the server acted on is repeated for a request never sent.
            await leftConnected.WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            var (nextTransport, nextClientId, _) = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
            if (nextClientId != clientId)
            {
                // A new session: a subscription was re-subscribed in it already, an unsubscribe has nothing left to
                // remove; the caller learns the request's own fate.
                throw;
            }

            reply = await SendRequestAsync(nextTransport, create(clientId), _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }

        if (!reply.MeansSessionLost)
        {
            return reply;
        }

        RequestHandshake(clientId); // the session is gone; recover in the background
        if (!retryIfSessionLost)
        {
            return reply;
        }

        var (newTransport, newClientId, _) = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
        if (newClientId == clientId)
        {
            return reply; // no new session came (the old one is reported alive): the caller gets the refusal
        }

        return await SendRequestAsync(newTransport, create(newClientId), _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the client is <see cref="BayeuxClientState.Connected"/>, at most <see cref="BayeuxClientOptions.RequestTimeout"/>,
    /// and returns the connection and session to send in, and a task that completes once the client is no longer
    /// Connected on that connection.
    /// </summary>
    private async Task<(IClientTransport Transport, string ClientId, Task LeftConnected)> WaitForSessionAsync(CancellationToken cancellationToken)
    {
        Task connected;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_state == BayeuxClientState.Disconnected)
            {
                throw new InvalidOperationException("The client is not connected; call ConnectAsync first.");
            }

            connected = _connected.Task;
        }

        try
        {
            await connected.WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The client was recovering its session and did not get it back within {_options.RequestTimeout.TotalSeconds:0.###} s.", ex);
        }

        lock (_gate)
        {
            if (_transport is null || _clientId is null)
            {
                throw new InvalidOperationException("The client disconnected.");
            }

            return (_transport, _clientId, _state == BayeuxClientState.Connected ? _leftConnected.Task : Task.CompletedTask);
        }
    }

    /// <summary>Sends one request and waits for the reply with its id, at most <paramref name="timeout"/>.</summary>
    private async Task<InboundMessage> SendRequestAsync(IClientTransport transport, OutboundMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = message.Id ?? throw new ArgumentException("A request needs an id.", nameof(message));
        var reply = _pending.Register(id);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await transport.SendAsync([message], deadline.Token).ConfigureAwait(false);
            if (transport.RepliesInResponse && !reply.IsCompleted)
            {
                throw new TransportException($"The server's response had no reply to {message.Channel} (id {id}).");
            }

            return await reply.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No reply to {message.Channel} (id {id}) within {timeout.TotalSeconds:0.###} s.");
        }
        finally
        {
            _pending.Forget(id);
        }
    }

    private async Task HandshakeAsync(IClientTransport transport, CancellationToken cancellationToken)
    {
        await transport.OpenAsync(cancellationToken).ConfigureAwait(false);

        // A handshake is always sent alone, never batched (the server requires it).
        var reply = await SendRequestAsync(
            transport,
            new OutboundMessage
            {
                Channel = "/meta/handshake",
                Version = BayeuxVersion,
                SupportedConnectionTypes = MessageCodec.SupportedConnectionTypes,
                Id = _pending.NextId(),
                Ext = _options.AcknowledgeMessages ? JsonSerializer.SerializeToElement(new { ack = true }) : null,
            },
            _options.RequestTimeout,
            cancellationToken).ConfigureAwait(false);

        if (!reply.Successful || reply.ClientId is null)
        {
            var error = reply.Error;
            throw new BayeuxException(error is null ? "The handshake failed." : $"The handshake failed: {error}", error, "/meta/handshake");
        }

        if (reply.Json.TryGetProperty("supportedConnectionTypes", out var types) && types.ValueKind == JsonValueKind.Array
            && !types.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == transport.ConnectionType))
        {
            throw new BayeuxException($"The server does not offer the {transport.ConnectionType} connection type.", "406::unsupported_connection_type", "/meta/handshake");
        }

        lock (_gate)
        {
            _clientId = reply.ClientId;
            _token = reply.HalleyToken;
            _advice = DefaultAdvice.Merge(reply.Advice);
            _confirmOnNextConnect = true;
            _resumeOnNextConnect = false;
            _ackEnabled = _options.AcknowledgeMessages && reply.Ext is { } ext
                && ext.TryGetProperty("ack", out var ack) && ack.ValueKind == JsonValueKind.True;
            _lastAck = -1;
        }
    }

    /// <summary>
    /// Keeps the session alive: sends the next <c>/meta/connect</c> after each reply, and recovers from
    /// lost connections and lost sessions until stopped or told <c>reconnect: none</c>.
    /// </summary>
    private async Task ConnectLoopAsync(IClientTransport transport, CancellationToken stopping)
    {
        var backoff = new Backoff(_options.MaxBackoff);
        var failures = 0;
        var handshake = false;
        // Set by a successful connect reply: the connection works, so when the server then closes it normally (at
        // the end of its lifetime, after advising an immediate reconnect) nothing failed and there is nothing to
        // back off from. Used up by the next loss, so a server that closes every new connection at once still
        // meets the backoff.
        var closeIsNoFailure = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                lock (_gate)
                {
                    handshake |= _handshakeRequestedFor is not null && _handshakeRequestedFor == _clientId;
                    _handshakeRequestedFor = null;
                }

                if (handshake)
                {
                    SetState(BayeuxClientState.Reconnecting);
                    await HandshakeAsync(transport, stopping).ConfigureAwait(false);
                    await ResubscribeAsync(transport, stopping).ConfigureAwait(false);
                    handshake = false;
                    failures = 0;
                    backoff.Reset();
                    SetState(BayeuxClientState.Connected);
                }

                var reply = await ConnectOnceAsync(transport, stopping).ConfigureAwait(false);
                Advice advice;
                lock (_gate)
                {
                    advice = _advice = _advice.Merge(reply.Advice);
                    // The reply's messages came in the same batch, so they are here: acknowledge them with the next connect.
                    if (_ackEnabled && reply.Ext is { } ext && ext.TryGetProperty("ack", out var ack)
                        && ack.ValueKind == JsonValueKind.Number && ack.TryGetInt64(out var batch))
                    {
                        _lastAck = batch;
                    }
                }

                if (advice.SaysNone)
                {
                    break; // the server ended the session (e.g. after our /meta/disconnect) and wants no retry
                }

                if (reply.Successful)
                {
                    failures = 0;
                    backoff.Reset();
                    closeIsNoFailure = true;
                    lock (_gate)
                    {
                        _confirmOnNextConnect = false;
                        _resumeOnNextConnect = false;
                    }

                    SetState(BayeuxClientState.Connected);
                    if (advice.Interval is > 0 and var interval)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(interval), _time, stopping).ConfigureAwait(false);
                    }

                    continue;
                }

                if (reply.MeansSessionLost || !(reply.Advice?.SaysRetry ?? false) || ++failures >= RefusalsBeforeHandshake)
                {
                    handshake = true;
                    continue;
                }

                closeIsNoFailure = false;
                await Task.Delay(backoff.Next(), _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                // A held connect cut short by RequestHandshake; the loop handshakes next.
            }
            catch (Exception ex) when (ex is BayeuxException or TimeoutException)
            {
                // Superseded: the server ended a connect of ours that we had given up on; the session is fine.
                if (ex is TransportException { Superseded: true })
                {
                    continue;
                }

                // The connection or the server is gone, or a handshake failed. Keep resuming the session on a
                // new connection with backoff: while the session lives (the server keeps it for its
                // maxInterval) that is all it takes, and once it is gone the server answers 402 and we
                // handshake. Counting failures instead would drop sessions that a short outage left intact.
                SetState(BayeuxClientState.Reconnecting);
                TimeSpan pause;
                lock (_gate)
                {
                    _confirmOnNextConnect = true;
                    // A normal close of a working connection is the server's (Halley ends sockets at their lifetime):
                    // come back when its advice says, at once for interval 0. Failures back off.
                    pause = closeIsNoFailure && ex is TransportException { ClosedNormally: true } && _advice.SaysRetry
                        ? TimeSpan.FromMilliseconds(Math.Max(0, _advice.Interval ?? 0))
                        : backoff.Next();
                }

                closeIsNoFailure = false;
                await transport.ResetAsync().ConfigureAwait(false);

                try
                {
                    await Task.Delay(pause, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (!stopping.IsCancellationRequested)
        {
            // Told to stop by the server (advice none): the session is over.
            await EndSessionAsync(transport).ConfigureAwait(false);
        }
    }

    private async Task<InboundMessage> ConnectOnceAsync(IClientTransport transport, CancellationToken stopping)
    {
        var reopened = await transport.OpenAsync(stopping).ConfigureAwait(false);
        string clientId;
        bool confirm;
        JsonElement? ext = null;
        TimeSpan timeout;
        CancellationTokenSource held;
        lock (_gate)
        {
            if (reopened)
            {
                _resumeOnNextConnect = true;
            }

            clientId = _clientId ?? throw new InvalidOperationException("No session.");
            held = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            confirm = _confirmOnNextConnect;

            // A new WebSocket serves only sessions it handshook; the token from the handshake binds it to ours.
            var token = _resumeOnNextConnect ? _token : null;
            if (token is not null || _ackEnabled)
            {
                ext = (token, _ackEnabled) switch
                {
                    (not null, true) => JsonSerializer.SerializeToElement(new { halley = new { token }, ack = _lastAck }),
                    (not null, false) => JsonSerializer.SerializeToElement(new { halley = new { token } }),
                    _ => JsonSerializer.SerializeToElement(new { ack = _lastAck }),
                };
            }

            timeout = confirm
                ? _options.RequestTimeout
                : TimeSpan.FromMilliseconds(_advice.Timeout ?? 0) + _options.RequestTimeout;
            _heldConnect = held;
        }

        try
        {
            return await SendRequestAsync(
                transport,
                new OutboundMessage
                {
                    Channel = "/meta/connect",
                    ClientId = clientId,
                    ConnectionType = transport.ConnectionType,
                    AdviceTimeout = confirm ? 0 : null,
                    Ext = ext,
                    Id = _pending.NextId(),
                },
                timeout,
                held.Token).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (ReferenceEquals(_heldConnect, held))
                {
                    _heldConnect = null;
                }
            }

            held.Dispose();
        }
    }

    private async Task ResubscribeAsync(IClientTransport transport, CancellationToken cancellationToken)
    {
        IGrouping<string, BayeuxSubscription>[] channels;
        string clientId;
        lock (_gate)
        {
            channels = [.. _subscriptions.GroupBy(s => s.Channel, StringComparer.Ordinal)];
            clientId = _clientId!;
        }

        foreach (var subscriptions in channels)
        {
            // One server subscription serves every local one on the channel: resume from the one furthest behind.
            var since = EarliestPosition(subscriptions);
            var reply = await SendRequestAsync(
                transport,
                SubscribeMessage(clientId, subscriptions.Key, since),
                _options.RequestTimeout,
                cancellationToken).ConfigureAwait(false);

            // A refusal now (say the channel became forbidden) has nobody to report to and must not stop the
            // others; only a lost session aborts, to handshake again.
            if (reply.MeansSessionLost)
            {
                throw new BayeuxException("The session was lost while re-subscribing.", reply.Error, "/meta/subscribe");
            }

            if (reply.Successful)
            {
                foreach (var subscription in subscriptions)
                {
                    subscription.OnSubscribed(reply, askedRecovery: since is not null, resubscribe: true);
                }
            }
        }
    }

    /// <summary>
    /// The position to resume a channel from, for the local subscriptions on it: the one received first, in the
    /// client's arrival order (positions themselves are opaque and never compared). Every event of the channel
    /// reaches each of them, so they differ only where one started later (its subscribe reply came after the other's
    /// last event): the earlier one is where the channel's server subscription really is.
    /// </summary>
    private static string? EarliestPosition(IEnumerable<BayeuxSubscription> subscriptions)
    {
        (string? Position, long Arrival)? earliest = null;
        foreach (var subscription in subscriptions)
        {
            var current = subscription.CurrentPosition;
            if (current.Position is null)
            {
                return null; // one of them has nothing to resume from: it starts fresh, and so must the channel
            }

            if (earliest is not { } e || current.Arrival < e.Arrival)
            {
                earliest = current;
            }
        }

        return earliest?.Position;
    }

    private OutboundMessage SubscribeMessage(string clientId, string channel, string? since) => new()
    {
        Channel = "/meta/subscribe",
        ClientId = clientId,
        Subscription = channel,
        Id = _pending.NextId(),
        Ext = since is not null ? JsonSerializer.SerializeToElement(new { halley = new { position = since } }) : null,
    };

    /// <summary>
    /// Called when a reply says session <paramref name="lostClientId"/> is gone: cut the held connect short
    /// and handshake. Ignored when that session was already replaced, so concurrent 402s cause one handshake.
    /// </summary>
    private void RequestHandshake(string lostClientId)
    {
        CancellationTokenSource? held;
        lock (_gate)
        {
            if (_state is BayeuxClientState.Disconnected or BayeuxClientState.Handshaking || _clientId != lostClientId)
            {
                return;
            }

            _handshakeRequestedFor = lostClientId;
            held = _heldConnect;
        }

        SetState(BayeuxClientState.Reconnecting);
        try
        {
            held?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That connect already finished; the loop sees the flag before its next one.
        }
    }

    private async Task EndSessionAsync(IClientTransport transport)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_transport, transport))
            {
                return; // already ended
            }

            _transport = null;
            _clientId = null;
            _token = null;
            _connectLoopStopping = null;
            foreach (var subscription in _subscriptions)
            {
                subscription.Deactivate();
            }

            _subscriptions = [];
        }

        await transport.DisposeAsync().ConfigureAwait(false);
        _pending.FailAll(new BayeuxException("The client disconnected."));
        SetState(BayeuxClientState.Disconnected);
        lock (_gate)
        {
            _disconnecting = false;
        }
    }

    private void RemoveSubscription(BayeuxSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private void SetState(BayeuxClientState state)
    {
        BayeuxClientState previous;
        lock (_gate)
        {
            previous = _state;
            if (previous == state || (_disconnecting && state == BayeuxClientState.Reconnecting))
            {
                return;
            }

            // A connect reply that was on its way when a request learnt the session is gone must not report that
            // session alive again: requests waiting for Connected would go out in it and meet another 402.
            if (state == BayeuxClientState.Connected && _handshakeRequestedFor is not null && _handshakeRequestedFor == _clientId)
            {
                return;
            }

            _state = state;
            if (previous == BayeuxClientState.Connected)
            {
                _leftConnected.TrySetResult();
            }

            if (state == BayeuxClientState.Connected)
            {
                _connected.TrySetResult();
                if (_leftConnected.Task.IsCompleted)
                {
                    _leftConnected = NewSignal();
                }
            }
            else if (state == BayeuxClientState.Disconnected)
            {
                // Wake requests waiting for recovery, which is not coming; they find no session and throw.
                _connected.TrySetResult();
                _connected = NewSignal();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }

            // Queued in the same lock as the change itself, so the queue's order is the order of the changes.
            _stateChanges.Enqueue(new BayeuxClientStateChangedEventArgs(previous, state));
            if (_raisingStateChanges)
            {
                return;
            }

            _raisingStateChanges = true;
        }

        RaiseStateChanges();
    }

    /// <summary>
    /// Raises <see cref="StateChanged"/> for the changes in the order they were made. Changes come from several
    /// threads (the connect loop, the transport's receive loop, the application); raised straight from each, a
    /// handler could see Connected before the Reconnecting that preceded it, and wait forever for a reconnect that
    /// already happened. So each change is queued where it is made, under the lock, and one thread at a time raises
    /// the queue in order (a handler that changes the state itself queues the change, raised after it returns).
    /// Called by the thread that set <c>_raisingStateChanges</c>; it raises until the queue is empty.
    /// </summary>
    private void RaiseStateChanges()
    {
        while (true)
        {
            BayeuxClientStateChangedEventArgs next;
            lock (_gate)
            {
                if (!_stateChanges.TryDequeue(out next!))
                {
                    _raisingStateChanges = false;
                    return;
                }
            }

            try
            {
                StateChanged?.Invoke(this, next);
            }
#pragma warning disable CA1031 // A subscriber's bug must not kill the connect loop that raised the event.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private void RaiseMetaReplyReceived(InboundMessage reply)
    {
        if (MetaReplyReceived is not { } handlers)
        {
            return;
        }

        try
        {
            handlers(this, new BayeuxMetaReplyEventArgs(reply.Json));
        }
#pragma warning disable CA1031 // Documented: a listener's bug must not stop the client reading from the server.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private async Task DispatchLoopAsync()
    {
        try
        {
            await foreach (var message in _events.Reader.ReadAllAsync(_disposing.Token).ConfigureAwait(false))
            {
                // Read the array once: a subscription added or removed now applies from the next message.
                foreach (var subscription in Volatile.Read(ref _subscriptions))
                {
                    if (!subscription.Pattern.Matches(message.Channel))
                    {
                        continue;
                    }

                    try
                    {
                        subscription.Deliver(message);
                    }
#pragma warning disable CA1031 // Documented: handler exceptions are ignored so delivery to others goes on.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async ValueTask OnMessagesAsync(IReadOnlyList<InboundMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var received in messages)
        {
            var message = received with { Arrival = Interlocked.Increment(ref _arrivals) };
            if (message.IsReply)
            {
                if (message.Channel is { } replyChannel && IsMeta(replyChannel))
                {
                    RaiseMetaReplyReceived(message);
                }

                // A reply nobody waits for is late (its request timed out or was abandoned with an old
                // session); even a 402 in it says nothing about the current session.
                _pending.TryComplete(message);

                continue;
            }

            var channel = message.Channel;
            if (channel is null || IsMeta(channel))
            {
                continue; // not an event; meta messages without "successful" carry nothing for handlers
            }

            // The position moves here, in arrival order and before the event waits for its handler, so a re-subscribe
            // resumes after every event already read (those still queued are handed on as they are).
            if (message.HalleyPosition is { } position)
            {
                foreach (var subscription in Volatile.Read(ref _subscriptions))
                {
                    if (subscription.IsActive && subscription.Pattern.Matches(channel))
                    {
                        subscription.Received(position, message.Arrival);
                    }
                }
            }

            var ext = message.Ext;
            var @event = new BayeuxMessage(channel, message.Data ?? default, message.Id, ext);
            try
            {
                await _events.Writer.WriteAsync(@event, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return; // disposed
            }
        }
    }

    private void OnConnectionLost(Exception error)
    {
        // Replies to requests sent over the lost connection will not come; fail them now rather than at
        // their timeouts. The connect loop sees its own connect fail and recovers.
        _pending.FailAll(error as BayeuxException ?? new TransportException("The connection was lost.", error));
        lock (_gate)
        {
            if (_state != BayeuxClientState.Connected)
            {
                return;
            }
        }

        SetState(BayeuxClientState.Reconnecting);
    }

    /// <summary>Routes transport callbacks to the client without making them part of its public surface.</summary>
    private sealed class Sink(BayeuxClient client) : ITransportSink
    {
        public ValueTask OnMessagesAsync(IReadOnlyList<InboundMessage> messages, CancellationToken cancellationToken) =>
            client.OnMessagesAsync(messages, cancellationToken);

        public void OnConnectionLost(Exception error) => client.OnConnectionLost(error);
    }
}
