using System.Collections.Concurrent;
using System.Globalization;

namespace Halley.Client.Internal;

/// <summary>
/// Requests waiting for their replies, keyed by the message id this client generated. Ids are
/// incrementing decimal strings, unique for the client's lifetime, so a late reply to an abandoned
/// request (a connect cut short by a re-handshake) finds no waiter and is dropped.
/// </summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InboundMessage>> _waiting = new(StringComparer.Ordinal);
    private long _lastId;

    public int Count => _waiting.Count;

    public string NextId() => Interlocked.Increment(ref _lastId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Registers a waiter for the reply with <paramref name="id"/>.</summary>
    public Task<InboundMessage> Register(string id)
    {
        // RunContinuationsAsynchronously: completion happens on the transport's receive loop, which must
        // not run user continuations inline.
        var waiter = new TaskCompletionSource<InboundMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiting.TryAdd(id, waiter))
        {
            throw new InvalidOperationException($"A request with id '{id}' is already pending.");
        }

        return waiter.Task;
    }

    /// <summary>Completes the waiter for <paramref name="reply"/>'s id; false when nobody waits for it.</summary>
    public bool TryComplete(InboundMessage reply)
    {
        var id = reply.Id;
        return id is not null && _waiting.TryRemove(id, out var waiter) && waiter.TrySetResult(reply);
    }

    /// <summary>Stops waiting for <paramref name="id"/> (the request timed out, was cancelled or could not be sent).</summary>
    public void Forget(string id) => _waiting.TryRemove(id, out _);

    public bool TryFail(string id, Exception error) =>
        _waiting.TryRemove(id, out var waiter) && waiter.TrySetException(error);

    /// <summary>Fails every waiter, e.g. when the WebSocket that carried their requests closed.</summary>
    public void FailAll(Exception error)
    {
        foreach (var id in _waiting.Keys)
        {
            TryFail(id, error);
        }
    }
}
