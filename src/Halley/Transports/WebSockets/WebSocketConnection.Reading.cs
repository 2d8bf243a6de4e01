using System.Net.WebSockets;
using Halley.Protocol;

namespace Halley.Transports.WebSockets;

/// <summary>The read loop: whole text messages in, each one a Bayeux batch processed in turn.</summary>
internal sealed partial class WebSocketConnection
{
    // Replies waiting for the writer; a client that sends without ever reading is cut off past this.
    private const int MaxPendingOutgoing = 4096;

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        while (_socket.State == WebSocketState.Open)
        {
            // Wait for data without a buffer, so an idle connection holds none.
            var probe = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (probe.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken).ConfigureAwait(false);
                return;
            }
            WebSocketCloseStatus status;
            byte[]? frame;
            if (probe.EndOfMessage && probe.MessageType == WebSocketMessageType.Text)
            {
                // An empty text message was read whole by the probe: it is answered as any other frame that is not Bayeux.
                (status, frame) = (WebSocketCloseStatus.Empty, []);
            }
            else
            {
                // A message has begun: it must end within the read timeout, or the sweep aborts the socket (a sender that
                // declares a huge frame, or trickles one, holds nothing for long).
                MessageStarted();
                try
                {
                    (status, frame) = await WebSocketMessageReader.ReceiveAsync(_socket, _options.MaxMessageSize, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    MessageEnded();
                }
            }
            switch (status)
            {
                case WebSocketCloseStatus.NormalClosure when frame is null:
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken).ConfigureAwait(false);
                    return;
                case WebSocketCloseStatus.MessageTooBig:
                    _limits.Exceeded(Security.Limits.ClientLimits.Names.BodySize);
                    await CloseAsync(status, $"Message exceeds Halley:MaxMessageSize ({_options.MaxMessageSize} bytes)", cancellationToken).ConfigureAwait(false);
                    return;
                case WebSocketCloseStatus.InvalidMessageType:
                    await CloseAsync(status, "Bayeux frames are text", cancellationToken).ConfigureAwait(false);
                    return;
            }
            if (!TryBeginFrame())
            {
                // Closing at the end of the lifetime: the reply could not be sent after the close frame, so the
                // frame is not acted on either; the client sends it again on its next connection.
                continue;
            }
            try
            {
                await ProcessFrameAsync(frame!, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                EndFrame();
            }
        }
    }

    private async Task ProcessFrameAsync(byte[] frame, CancellationToken cancellationToken)
    {
        var parsed = BayeuxCodec.TryParseBatch(frame, _limits.Batch, out var batch);
        if (parsed != BatchParseError.None)
        {
            _limits.BatchRefused(parsed);
            var reason = parsed switch
            {
                BatchParseError.TooManyMessages => "too_many_messages",
                BatchParseError.TooDeep => "json_too_deep",
                BatchParseError.InvalidUtf8 => "invalid_utf8",
                _ => "malformed_json",
            };
            Enqueue(new OutgoingMessage(new BayeuxReply("", null) { Successful = false, Error = BayeuxErrors.InvalidMessage(reason) }));
            return;
        }
        if (batch.Count == 0)
        {
            return; // Faye's keep-alive "[]".
        }
        var replies = new List<BayeuxReply>(batch.Count);
        var pending = await _processor.ProcessAsync(batch, _context, replies, cancellationToken).ConfigureAwait(false);
        foreach (var reply in replies)
        {
            Enqueue(new OutgoingMessage(reply));
        }
        if (pending is not null)
        {
            Hold(pending);
        }
    }

    private void Enqueue(OutgoingMessage item)
    {
        bool overflow;
        lock (_gate)
        {
            _outgoing.Add(item);
            overflow = _outgoing.Count > MaxPendingOutgoing;
        }
        if (overflow)
        {
            _socket.Abort();
            return;
        }
        FlushNow();
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
    {
        WebSocketLog.Closed(_logger, status.ToString());
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(status, description, cancellationToken).ConfigureAwait(false);
        }
    }
}
