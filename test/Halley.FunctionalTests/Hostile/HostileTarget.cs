using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Hostile;

/// <summary>
/// A live server the corpus runs against, and the probes that send it hostile input: HTTP through HttpClient where
/// the request itself is well-formed, raw TCP for everything a well-behaved client library refuses to send (bad
/// frames, bad heads, slow senders). Each probe reports the class of answer it got.
/// </summary>
public sealed class HostileTarget(TestServer server, string name)
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(15);

    public TestServer Server { get; } = server;

    public string Name { get; } = name;

    public override string ToString() => Name;

    // ---- HTTP ----------------------------------------------------------------------------------------------------

    public async Task<Outcome> PostAsync(byte[] body, string contentType = "application/json", string path = "/cometd", string? cookie = null)
    {
        using var http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = AnswerTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }
        using var response = await http.SendAsync(request);
        return await ClassifyAsync(response);
    }

    public async Task<Outcome> GetAsync(string pathAndQuery, params (string Name, string Value)[] headers)
    {
        using var http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = AnswerTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        foreach (var (header, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return await ClassifyAsync(response);
    }

    /// <summary>An HTTP answer: a 4xx, or a 200 whose Bayeux replies (JSON or JSONP) are all 4xx errors, is a refusal.</summary>
    public static async Task<Outcome> ClassifyAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is >= 400 and < 500)
        {
            return Outcome.Of(Answer.Http4xx, $"HTTP {status}");
        }
        if (status != 200)
        {
            return Outcome.Unexpected($"HTTP {status}");
        }
        var type = response.Content.Headers.ContentType?.MediaType;
        if (type is not ("application/json" or "text/javascript"))
        {
            return Outcome.Unexpected($"HTTP 200 {type}");
        }
        var text = await response.Content.ReadAsStringAsync();
        if (type == "text/javascript")
        {
            // A JSONP answer: callback([...]);
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            text = open >= 0 && close > open ? text[(open + 1)..close] : text;
        }
        return ClassifyReplies(text);
    }

    /// <summary>A Bayeux answer is a refusal when every reply in it failed with a 4xx error code.</summary>
    public static Outcome ClassifyReplies(string json)
    {
        JsonArray replies;
        try
        {
            replies = JsonNode.Parse(json)!.AsArray();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return Outcome.Unexpected("not a Bayeux array: " + Shorten(json));
        }
        if (replies.Count == 0)
        {
            return Outcome.Unexpected("an empty reply array");
        }
        foreach (var reply in replies)
        {
            var successful = reply?["successful"]?.GetValueKind() == JsonValueKind.False;
            var error = reply?["error"]?.GetValueKind() == JsonValueKind.String ? reply["error"]!.GetValue<string>() : "";
            if (!successful || error.Length == 0 || error[0] != '4')
            {
                return Outcome.Unexpected("a reply that is not a 4xx Bayeux error: " + Shorten(json));
            }
        }
        return Outcome.Of(Answer.BayeuxError, Shorten(json));
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    // ---- raw HTTP ------------------------------------------------------------------------------------------------

    /// <summary>The head of a request to this server, for raw requests: <c>METHOD target HTTP/1.1</c> and a Host.</summary>
    public string Head(string method, string target) => $"{method} {target} HTTP/1.1\r\nHost: {Server.BaseAddress.Authority}\r\n";

    /// <summary>Sends raw bytes (trickled a byte every <paramref name="trickle"/> if set) and classifies the status line or the close.</summary>
    public async Task<Outcome> RawHttpAsync(byte[] request, TimeSpan? trickle = null, TimeSpan? patience = null)
    {
        using var client = await FromAddress.TcpAsync(Server);
        var stream = client.GetStream();
        using var stop = new CancellationTokenSource(patience ?? AnswerTimeout);
        var reading = ReadStatusAsync(stream, stop.Token);
        try
        {
            if (trickle is { } pause)
            {
                foreach (var b in request)
                {
                    if (reading.IsCompleted)
                    {
                        break;
                    }
                    await stream.WriteAsync(new[] { b }, stop.Token);
                    await Task.WhenAny(reading, Task.Delay(pause, stop.Token));
                }
            }
            else
            {
                await stream.WriteAsync(request, stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // The server closed while we were still sending: the read below tells what it answered.
        }
        catch (OperationCanceledException)
        {
            return Outcome.Unexpected("still sending when patience ran out");
        }
        try
        {
            return await reading;
        }
        catch (OperationCanceledException)
        {
            return Outcome.Unexpected("no answer and no close within " + (patience ?? AnswerTimeout));
        }
    }

    private static async Task<Outcome> ReadStatusAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        var buffer = new byte[1];
        try
        {
            while (head.Count < 4096)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }
                head.Add(buffer[0]);
                if (buffer[0] == '\n')
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // Reset by the server: a close.
        }
        var line = Encoding.ASCII.GetString([.. head]).TrimEnd();
        if (line.Length == 0)
        {
            return Outcome.Of(Answer.Closed, "closed without an answer");
        }
        var parts = line.Split(' ');
        if (parts.Length >= 2 && int.TryParse(parts[1], out var status))
        {
            return status is >= 400 and < 500 ? Outcome.Of(Answer.Http4xx, line) : Outcome.Unexpected(line);
        }
        // Not HTTP/1 (Kestrel answers an HTTP/2 preface in HTTP/2): a refusal only if the server then ends the connection.
        try
        {
            var rest = new byte[4096];
            while (await stream.ReadAsync(rest, cancellationToken) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // Reset: a close too.
        }
        return Outcome.Of(Answer.Closed, "a non-HTTP/1 answer, then the close");
    }

    // ---- WebSocket frames ----------------------------------------------------------------------------------------

    /// <summary>A WebSocket frame as a client would send it, or as one must not.</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsv = 0, ulong? declaredLength = null)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        var length = declaredLength ?? (ulong)payload.Length;
        var maskBit = masked ? 0x80 : 0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | (int)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            Span<byte> eight = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(eight, length);
            frame.AddRange(eight.ToArray());
        }
        if (!masked)
        {
            frame.AddRange(payload.ToArray());
            return [.. frame];
        }
        var key = RandomNumberGenerator.GetBytes(4);
        frame.AddRange(key);
        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ key[i % 4]));
        }
        return [.. frame];
    }

    public static byte[] Text(string text) => Frame(0x1, Encoding.UTF8.GetBytes(text));

    public static byte[] Text(byte[] bytes) => Frame(0x1, bytes);

    /// <summary>The upgrade request of the Bayeux endpoint, with <paramref name="extraHeaders"/> (full lines) added.</summary>
    public byte[] Upgrade(string path = "/cometd", string key = "dGhlIHNhbXBsZSBub25jZQ==", string version = "13", string extraHeaders = "") =>
        Encoding.ASCII.GetBytes(Head("GET", path) + $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n");

    /// <summary>
    /// Opens a WebSocket over raw TCP, sends <paramref name="frames"/> and reads the server's first answer: a text
    /// message (classified as Bayeux replies) or a close (a close frame's code, or the TCP close).
    /// </summary>
    public Task<Outcome> FramesAsync(params byte[][] frames) => FramesAsync(halfClose: false, frames);

    /// <summary>As <see cref="FramesAsync(byte[][])"/>; with <paramref name="halfClose"/> the client then ends its side of the TCP connection.</summary>
    public async Task<Outcome> FramesAsync(bool halfClose, params byte[][] frames)
    {
        using var client = await FromAddress.TcpAsync(Server);
        var stream = client.GetStream();
        using var stop = new CancellationTokenSource(AnswerTimeout);
        await stream.WriteAsync(Upgrade(), stop.Token);
        var status = await ReadHeadAsync(stream, stop.Token);
        if (!status.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            return Outcome.Unexpected("upgrade refused: " + status);
        }
        try
        {
            foreach (var frame in frames)
            {
                await stream.WriteAsync(frame, stop.Token);
            }
            if (halfClose)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // Closed by the server mid-way: read what it said.
        }
        try
        {
            return await ReadAnswerAsync(stream, stop.Token);
        }
        catch (OperationCanceledException)
        {
            return Outcome.Unexpected("no answer and no close within " + AnswerTimeout);
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                break;
            }
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString([.. head]);
    }

    private static async Task<Outcome> ReadAnswerAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var message = new List<byte>();
        while (true)
        {
            var header = new byte[2];
            if (!await ReadExactlyAsync(stream, header, cancellationToken))
            {
                return Outcome.Of(Answer.Closed, "TCP closed");
            }
            var opcode = header[0] & 0x0F;
            ulong length = (ulong)(header[1] & 0x7F);
            if (length >= 126)
            {
                var extended = new byte[length == 126 ? 2 : 8];
                if (!await ReadExactlyAsync(stream, extended, cancellationToken))
                {
                    return Outcome.Of(Answer.Closed, "TCP closed");
                }
                length = extended.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : BinaryPrimitives.ReadUInt64BigEndian(extended);
            }
            if (length > 16 << 20)
            {
                return Outcome.Unexpected($"a server frame of {length} bytes");
            }
            var payload = new byte[length];
            if (!await ReadExactlyAsync(stream, payload, cancellationToken))
            {
                return Outcome.Of(Answer.Closed, "TCP closed");
            }
            switch (opcode)
            {
                case 0x8:
                    var code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                    return code is 1002 or 1003 or 1007 or 1008 or 1009
                        ? Outcome.Of(Answer.Closed, $"close {code} {Encoding.UTF8.GetString(payload.AsSpan(Math.Min(2, payload.Length)))}")
                        : Outcome.Unexpected($"close {code}");
                case 0x9 or 0xA:
                    continue;
                default:
                    message.AddRange(payload);
                    if ((header[0] & 0x80) != 0)
                    {
                        return ClassifyReplies(Encoding.UTF8.GetString([.. message]));
                    }
                    break;
            }
        }
    }

    private static async Task<bool> ReadExactlyAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException)
        {
            return false;
        }
    }
}
