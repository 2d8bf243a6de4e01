using System.Text.Json;
using Halley.Client.Internal;

namespace Halley.Client;

// The connect loop: handshakes, the /meta/connect heartbeat, resuming on a new connection, re-handshaking after a
// lost session, and ending the session.
public sealed partial class BayeuxClient
{
    // How many unsuccessful connect replies advising "retry" we accept before handshaking anyway, so a
    // server that keeps refusing without saying why cannot hold the client in a retry loop forever.
    private const int RefusalsBeforeHandshake = 3;

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
