using System.Buffers;
using System.Net.WebSockets;

namespace Halley.Peers.KestrelWebSocket;

/// <summary>
/// One subscribed socket. A WebSocket allows one send at a time, so sends go through a small FIFO: the caller that
/// finds the socket idle sends directly (usually completing synchronously into Kestrel's output pipe); callers that
/// find a send in flight enqueue, and the sender drains the queue.
/// </summary>
internal sealed class Subscriber(WebSocket socket)
{
    // Slow-consumer bound: a client this many messages behind is disconnected rather than buffered without limit.
    private const int MaxQueuedMessages = 4096;

    private readonly Queue<byte[]> _queue = new();
    private bool _sending;

    public Task Send(byte[] payload)
    {
        lock (_queue)
        {
            if (_sending)
            {
                if (_queue.Count >= MaxQueuedMessages)
                {
                    socket.Abort();
                    return Task.CompletedTask;
                }

                _queue.Enqueue(payload);
                return Task.CompletedTask;
            }

            _sending = true;
        }

        return SendAndDrain(payload);
    }

    private Task SendAndDrain(byte[] payload)
    {
        // Synchronous fast path: keep sending while each send completes at once. Ends when the queue is empty
        // (the queue is bounded and only grows by publishes) or a send goes asynchronous.
        while (true)
        {
            ValueTask send;
            try
            {
                send = socket.SendAsync(payload.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            catch (Exception ex)
            {
                Stop();
                return Task.FromException(ex);
            }

            if (!send.IsCompletedSuccessfully)
            {
                return DrainAsync(send);
            }

            send.GetAwaiter().GetResult(); // consume the ValueTask (it may be backed by a pooled source)

            if (!TryDequeue(out payload))
            {
                return Task.CompletedTask;
            }
        }
    }

    private async Task DrainAsync(ValueTask inFlight)
    {
        try
        {
            await inFlight;
            // Ends when the (bounded) queue is empty; a closed socket throws.
            while (TryDequeue(out var next))
            {
                await socket.SendAsync(next.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch
        {
            Stop();
            throw;
        }
    }

    private bool TryDequeue(out byte[] payload)
    {
        lock (_queue)
        {
            if (_queue.TryDequeue(out payload!))
            {
                return true;
            }

            _sending = false;
            return false;
        }
    }

    private void Stop()
    {
        lock (_queue)
        {
            _queue.Clear();
            _sending = false;
        }
    }

    /// <summary>Waits with zero-byte reads (no buffer held while idle) until the client closes.</summary>
    public async Task ReceiveUntilClosedAsync(CancellationToken cancellationToken)
    {
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            // The protocol has nothing to say client → server: discard whatever arrived.
            var buffer = ArrayPool<byte>.Shared.Rent(1024);
            try
            {
                ValueWebSocketReceiveResult data;
                do
                {
                    data = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                }
                while (!data.EndOfMessage && data.MessageType != WebSocketMessageType.Close);

                if (data.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (socket.State == WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        }
    }
}
