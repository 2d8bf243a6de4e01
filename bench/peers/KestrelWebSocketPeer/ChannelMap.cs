using System.Collections.Concurrent;

namespace Halley.Peers.KestrelWebSocket;

/// <summary>Channel name → the sockets subscribed to it.</summary>
internal sealed class ChannelMap
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Subscriber, byte>> _channels = new(StringComparer.Ordinal);

    public void Add(string channel, Subscriber subscriber) =>
        _channels.GetOrAdd(channel, static _ => new ConcurrentDictionary<Subscriber, byte>()).TryAdd(subscriber, 0);

    public void Remove(string channel, Subscriber subscriber)
    {
        // An emptied channel set is kept: the benchmark's channels are few and reused.
        if (_channels.TryGetValue(channel, out var set))
        {
            set.TryRemove(subscriber, out _);
        }
    }

    /// <summary>
    /// Queues <paramref name="payload"/> to every subscriber of <paramref name="channel"/>. Sends that complete
    /// synchronously cost nothing more; the others are observed in the background (a failed send only means that
    /// client is gone, and its receive loop removes it).
    /// </summary>
    public void Publish(string channel, byte[] payload)
    {
        if (!_channels.TryGetValue(channel, out var set))
        {
            return;
        }

        List<Task>? pending = null;
        foreach (var (subscriber, _) in set)
        {
            var send = subscriber.Send(payload);
            if (!send.IsCompletedSuccessfully)
            {
                (pending ??= []).Add(send);
            }
        }

        if (pending is not null)
        {
            _ = ObserveAsync(pending);
        }
    }

    private static async Task ObserveAsync(List<Task> pending)
    {
        try
        {
            await Task.WhenAll(pending);
        }
        catch (Exception)
        {
            // Each failure is a client that went away; its receive loop ends and removes it.
        }
    }
}
