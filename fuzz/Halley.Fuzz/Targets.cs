using System.Buffers;
using System.Net.WebSockets;
using Halley.Http;
using Halley.Protocol;
using Halley.Transports.WebSockets;
using Microsoft.AspNetCore.Http;

namespace Halley.Fuzz;

/// <summary>
/// The fuzzed readers: each takes arbitrary bytes and must end with a result or with the exception its contract
/// names (a WebSocket protocol error); any other exception is a crash for afl-fuzz, a run over its time a hang.
/// </summary>
internal static class Targets
{
    // Small limits, so that the fuzzer reaches the limit paths with short inputs. Made per call, not in a static
    // initializer: instrumented code (Halley's) must not run before afl-fuzz's shared memory is set up.
    private static BatchLimits Limits => new(MaxMessages: 8, MaxMessageSize: 512, MaxDepth: 8);
    private const int MaxBody = 2048;

    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["codec"] = Codec,
        ["http"] = Http,
        ["websocket"] = WebSocketFrames,
        ["upgrade"] = Upgrade,
    };

    /// <summary>The Bayeux decoder: a batch, each message's fields read as the processor reads them.</summary>
    private static void Codec(byte[] input)
    {
        BayeuxCodec.TryParseBatch(input, Limits, out var messages);
        foreach (var message in messages)
        {
            Touch(message);
        }
    }

    /// <summary>The HTTP batch reader (raw JSON or a message= form, bounded), then the decoder.</summary>
    private static void Http(byte[] input)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(input);
        context.Request.ContentLength = input.Length;
        var (status, json) = HttpBatchReader.ReadAsync(context.Request, MaxBody, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (status == HttpBatchReader.Status.Ok)
        {
            BayeuxCodec.TryParseBatch(json, Limits, out var messages);
            foreach (var message in messages)
            {
                Touch(message);
            }
        }
    }

    /// <summary>
    /// The WebSocket message reader on the framework's server WebSocket, fed the input as what a client sent; each
    /// whole message goes through the decoder. A protocol error ends the connection, as on a real socket.
    /// </summary>
    private static void WebSocketFrames(byte[] input)
    {
        using var stream = new ClientBytes(input);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        try
        {
            for (var i = 0; i < 64; i++)
            {
                var (status, frame) = WebSocketMessageReader.ReceiveAsync(socket, MaxBody, CancellationToken.None).GetAwaiter().GetResult();
                if (frame is null)
                {
                    return;
                }
                _ = status;
                BayeuxCodec.TryParseBatch(frame, Limits, out var messages);
                foreach (var message in messages)
                {
                    Touch(message);
                }
            }
        }
        catch (WebSocketException)
        {
            // A protocol error (a bad frame, the input ended mid-frame): the connection ends, which is the contract.
        }
    }

    /// <summary>The request-head parser of the connection-level WebSocket accept path, and what it reads from a head.</summary>
    private static void Upgrade(byte[] input)
    {
        // Split in two segments, as a head arriving in two reads is.
        var sequence = Segments.Of(input, input.Length / 2);
        if (WebSocketUpgradeRequest.TryParse(sequence, "/cometd", out var request) == WebSocketUpgradeRequest.Verdict.Upgrade)
        {
            _ = request.AcceptValue();
            _ = request.GetCookie("BAYEUX_BROWSER");
        }
    }

    private static void Touch(BayeuxMessage message)
    {
        _ = message.Channel?.Length;
        _ = message.Subscriptions?.Count;
        _ = message.Ext?.ValueKind;
        _ = message.DataJson.Length;
        _ = message.IdJson.Length;
    }

    /// <summary>A stream that reads the input once and swallows writes (the server's answers).</summary>
    private sealed class ClientBytes(byte[] input) : Stream
    {
        private readonly MemoryStream _input = new(input);

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(_input.Read(buffer.Span));
        public override void Write(byte[] buffer, int offset, int count) { }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(byte[] bytes, int split)
        {
            var first = new Segments(bytes.AsMemory(0, split), 0);
            var second = new Segments(bytes.AsMemory(split), split);
            first.Next = second;
            return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
        }
    }
}
