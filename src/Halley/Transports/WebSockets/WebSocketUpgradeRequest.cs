using System.Buffers;
using System.Text;

namespace Halley.Transports.WebSockets;

/// <summary>
/// Reads an HTTP/1.1 request head far enough to tell whether it is a plain WebSocket upgrade of the Bayeux
/// endpoint. Anything unusual (another path or method, a subprotocol, an extension-only client, a malformed
/// head) is not a candidate, and the request goes to the ordinary HTTP pipeline unchanged.
/// </summary>
internal readonly record struct WebSocketUpgradeRequest(string Key, string? Cookie, string? Origin, string? Host, string Path, int HeadLength)
{
    /// <summary>The <c>Authorization</c> header (a connection token); null when absent or sent twice.</summary>
    public string? Authorization { get; init; }

    /// <summary>The <c>access_token</c> query parameter (a connection token from a browser); null when absent.</summary>
    public string? AccessToken { get; init; }

    /// <summary>Longest head examined; longer heads go to Kestrel, which enforces its own limits.</summary>
    public const int MaxHeadLength = 8 * 1024;

    public enum Verdict
    {
        /// <summary>More bytes are needed to decide.</summary>
        NeedMore,

        /// <summary>Not for the fast path: hand the connection to HTTP.</summary>
        PassThrough,

        /// <summary>A WebSocket upgrade of the endpoint.</summary>
        Upgrade,
    }

    public static Verdict TryParse(ReadOnlySequence<byte> buffer, string path, out WebSocketUpgradeRequest request)
    {
        request = default;
        var prefixLength = (int)Math.Min(buffer.Length, 4);
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, prefixLength).CopyTo(prefix);
        if (!"GET "u8[..prefixLength].SequenceEqual(prefix[..prefixLength]))
        {
            return Verdict.PassThrough;
        }
        var examined = buffer.Length > MaxHeadLength ? buffer.Slice(0, MaxHeadLength) : buffer;
        var reader = new SequenceReader<byte>(examined);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            return buffer.Length > MaxHeadLength ? Verdict.PassThrough : Verdict.NeedMore;
        }
        var headLength = (int)reader.Consumed;
        var lines = Encoding.Latin1.GetString(head).Split("\r\n");
        if (!IsRequestLineFor(lines[0], path))
        {
            return Verdict.PassThrough;
        }
        string? key = null, version = null, upgrade = null, connection = null, cookie = null, origin = null, host = null, authorization = null;
        var authorizations = 0;
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':');
            if (colon <= 0)
            {
                return Verdict.PassThrough;
            }
            var name = lines[i].AsSpan(0, colon).Trim();
            var value = lines[i][(colon + 1)..].Trim();
            if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                // Two keys: which one would the client check the accept value against? HTTP refuses them.
                if (key is not null) return Verdict.PassThrough;
                key = value;
            }
            else if (name.Equals("Sec-WebSocket-Version", StringComparison.OrdinalIgnoreCase)) version = value;
            else if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)) upgrade = value;
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase)) connection = value;
            else if (name.Equals("Cookie", StringComparison.OrdinalIgnoreCase)) cookie = cookie is null ? value : cookie + "; " + value;
            else if (name.Equals("Origin", StringComparison.OrdinalIgnoreCase))
            {
                // Two Origin headers are ambiguous: HTTP decides (the pipeline path sees them as they are).
                if (origin is not null) return Verdict.PassThrough;
                origin = value;
            }
            else if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                // As for Origin: the own origin is read from Host, so two of them go to HTTP, which refuses them.
                if (host is not null) return Verdict.PassThrough;
                host = value;
            }
            else if (name.Equals("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase)) return Verdict.PassThrough;
            else if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                // Two are ambiguous: neither is used, as the HTTP path reads none of several.
                authorization = ++authorizations == 1 ? value : null;
            }
        }
        var valid = version == "13"
            && upgrade is not null && upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
            && connection is not null && connection.Split(',').Any(t => t.Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase))
            && IsValidKey(key);
        if (!valid)
        {
            return Verdict.PassThrough;
        }
        request = new WebSocketUpgradeRequest(key!, cookie, origin, host, TargetPath(lines[0]), headLength)
        {
            Authorization = authorization,
            AccessToken = QueryValue(lines[0], Security.Auth.ConnectionAuthentication.QueryParameter),
        };
        return Verdict.Upgrade;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for <see cref="Key"/> (RFC 6455 §4.2.2).</summary>
    public string AcceptValue() =>
        Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(Encoding.ASCII.GetBytes(Key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    /// <summary>The value of cookie <paramref name="name"/>, if the request carried it.</summary>
    public string? GetCookie(string name)
    {
        if (Cookie is null)
        {
            return null;
        }
        foreach (var pair in Cookie.Split(';'))
        {
            var equals = pair.IndexOf('=');
            if (equals > 0 && pair.AsSpan(0, equals).Trim().SequenceEqual(name))
            {
                return pair[(equals + 1)..].Trim();
            }
        }
        return null;
    }

    /// <summary>The one value of query parameter <paramref name="name"/> in a request line; null when absent or repeated.</summary>
    private static string? QueryValue(string line, string name)
    {
        var target = line.Split(' ')[1];
        var query = target.IndexOf('?');
        if (query < 0)
        {
            return null;
        }
        var values = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(target[query..]);
        return values.TryGetValue(name, out var value) && value.Count == 1 ? value[0] : null;
    }

    /// <summary>The path of a request line already known to be well-formed (<see cref="IsRequestLineFor"/>), without its query.</summary>
    private static string TargetPath(string line)
    {
        var target = line.Split(' ')[1];
        var query = target.IndexOf('?');
        return query < 0 ? target : target[..query];
    }

    private static bool IsRequestLineFor(string line, string path)
    {
        // "GET /cometd?x HTTP/1.1": the endpoint, the endpoint with a trailing slash or sub-path, any query.
        var parts = line.Split(' ');
        if (parts.Length != 3 || parts[2] != "HTTP/1.1")
        {
            return false;
        }
        var target = parts[1];
        var query = target.IndexOf('?');
        var targetPath = query < 0 ? target : target[..query];
        return targetPath == path || targetPath.StartsWith(path + "/", StringComparison.Ordinal);
    }

    private static bool IsValidKey(string? key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}
