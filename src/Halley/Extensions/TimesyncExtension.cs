using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Protocol;

namespace Halley.Extensions;

/// <summary>
/// CometD's <c>timesync</c> extension: a handshake or connect with <c>ext.timesync</c> gets the client's clock echoed
/// with the server's, so the client can estimate offset and lag. Registered first, so it is the outermost extension
/// and its processing time covers the others.
/// </summary>
internal sealed class TimesyncExtension(TimeProvider time) : IBayeuxExtension
{
    public void SendMeta(BayeuxExtensionMessage reply)
    {
        // Only a successful handshake or connect that lets the client go on: after a disconnect (reconnect: none)
        // there is no next connect to use the estimate.
        if (reply.Channel is not (MetaChannels.Handshake or MetaChannels.Connect) || !reply.Successful
            || reply.Reply is { Advice.Reconnect: ReconnectAdvice.Stop }
            || !reply.ClientMessage.TryGetExt("timesync", out var timesync) || timesync.ValueKind != JsonValueKind.Object
            || !TryGetInt64(timesync, "tc", out var tc))
        {
            return;
        }
        var lag = TryGetInt64(timesync, "l", out var lagValue) ? lagValue : 0;
        var serverNow = time.GetUtcNow().ToUnixTimeMilliseconds();
        var processing = (long)time.GetElapsedTime(reply.ReceivedAt).TotalMilliseconds;
        var ts = serverNow - processing;
        (reply.Ext ??= [])["timesync"] = new JsonObject { ["tc"] = tc, ["ts"] = ts, ["p"] = processing, ["a"] = ts - tc - lag };
    }

    // JsonElement.TryGetInt64 throws on non-numbers; client input must only ever be ignored.
    private static bool TryGetInt64(JsonElement parent, string name, out long value)
    {
        value = 0;
        return parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }
}
