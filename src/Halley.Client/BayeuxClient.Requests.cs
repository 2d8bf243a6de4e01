using Halley.Client.Internal;

namespace Halley.Client;

// Requests in a session: waiting for a live session, sending, matching the reply, and sending again when the
// session or the connection was lost under a request.
public sealed partial class BayeuxClient
{
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
}
