using System.Text.Json;
using Halley.Channels;
using Halley.Engine;

namespace Halley;

/// <summary>Publishes to Halley's channels from server-side code (controllers, background services).</summary>
public interface IHalleyPublisher
{
    /// <summary>Serializes <paramref name="data"/> with System.Text.Json and publishes it to <paramref name="channel"/>.</summary>
    /// <returns>The message's position in the channel's history; null when the channel keeps none (see <see cref="HistoryOptions"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a concrete broadcast channel.</exception>
    ValueTask<StreamPosition?> PublishAsync<T>(string channel, T data, CancellationToken cancellationToken = default);
}

internal sealed class HalleyPublisher(MessageHub engine) : IHalleyPublisher
{
    public ValueTask<StreamPosition?> PublishAsync<T>(string channel, T data, CancellationToken cancellationToken = default)
    {
        if (ChannelPolicy.ForBroadcast(channel) != ChannelVerdict.Allowed)
        {
            throw new ArgumentException($"'{channel}' is not a concrete broadcast channel.", nameof(channel));
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(data);
        return AwaitAsync(engine.PublishAsync(channel, json, default, cancellationToken));
    }

    private static async ValueTask<StreamPosition?> AwaitAsync(ValueTask<EncodedMessage> publish) => (await publish.ConfigureAwait(false)).Position;
}
