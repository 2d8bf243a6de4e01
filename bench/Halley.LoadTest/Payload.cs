using System.Buffers.Text;
using System.Diagnostics;
using System.Text.Json;

namespace Halley.LoadTest;

/// <summary>
/// The published payload: <c>{"t":&lt;Stopwatch timestamp at publish&gt;,"s":&lt;sequence&gt;,"p":"&lt;padding&gt;"}</c>.
/// Stopwatch timestamps come from CLOCK_MONOTONIC on Linux, so a worker process can subtract <c>t</c> from its
/// own clock to get the publish-to-receive latency.
/// </summary>
public static class Payload
{
    /// <summary>Builds a payload of about <paramref name="totalBytes"/> bytes (never less than the fields need).</summary>
    public static byte[] Create(long sequence, int totalBytes)
    {
        Span<byte> head = stackalloc byte[64];
        var n = 0;
        "{\"t\":"u8.CopyTo(head);
        n += 5;
        Utf8Formatter.TryFormat(Stopwatch.GetTimestamp(), head[n..], out var w);
        n += w;
        ",\"s\":"u8.CopyTo(head[n..]);
        n += 5;
        Utf8Formatter.TryFormat(sequence, head[n..], out w);
        n += w;
        ",\"p\":\""u8.CopyTo(head[n..]);
        n += 6;
        var padding = Math.Max(0, totalBytes - n - 2);
        var bytes = new byte[n + padding + 2];
        head[..n].CopyTo(bytes);
        bytes.AsSpan(n, padding).Fill((byte)'x');
        bytes[^2] = (byte)'"';
        bytes[^1] = (byte)'}';
        return bytes;
    }

    /// <summary>Reads <c>t</c> from a received payload; false when it is not one of ours.</summary>
    public static bool TryReadTimestamp(ReadOnlySpan<byte> json, out long timestamp)
    {
        timestamp = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isT = reader.ValueTextEquals("t"u8);
                reader.Read();
                if (isT)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out timestamp);
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }
}
