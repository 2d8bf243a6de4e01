using System.Buffers;
using System.Globalization;
using System.Text;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Http;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Streams;

/// <summary>
/// <c>GET /sse?channel=…</c>: WHATWG Server-Sent Events for a bare <c>new EventSource(url)</c> or <c>curl -N</c>.
/// Each event is one <c>data:</c> line holding <c>{"channel":…,"data":…,"position":…}</c>, with the position as
/// its <c>id:</c> when the channel keeps history, so a reconnecting <c>EventSource</c> resumes by itself;
/// heartbeats are comment lines; at the end of its lifetime the stream ends with a <c>retry:</c> hint.
/// </summary>
internal sealed class ServerSentEventsTransport(MessageHub engine, LiveConnections connections, HalleyMetrics metrics, BayeuxCors cors, ConnectionAuthorization authorization, Security.Auth.ChannelAuthorization channelAuthorization, IOptions<HalleyOptions> options, ILogger<ServerSentEventsTransport> logger)
    : StreamingTransport(engine, connections, metrics, cors, authorization, channelAuthorization, options.Value, logger)
{
    private readonly SseFormat _format = new(options.Value.Streaming.RetryDelay);

    protected override string Name => "sse";

    protected override StreamFormat? SelectFormat(HttpRequest request, out string? error)
    {
        error = null;
        return _format;
    }

    /// <summary>The <c>text/event-stream</c> framing; stateless, so one instance serves every connection.</summary>
    internal class SseFormat(TimeSpan retryDelay) : StreamFormat
    {
        private readonly byte[] _end = Encoding.ASCII.GetBytes(
            "retry: " + ((long)retryDelay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "\n\n");

        public override string ContentType => "text/event-stream; charset=utf-8";

        public override void WritePadding(IBufferWriter<byte> output, int padding)
        {
            // One comment line of exactly `padding` bytes: ':' + spaces + '\n'. EventSource ignores it.
            if (padding == 1)
            {
                output.Write("\n"u8);
                return;
            }
            output.Write(":"u8);
            Fill(output, (byte)' ', padding - 2);
            output.Write("\n"u8);
        }

        public override void WriteStart(IBufferWriter<byte> output, StreamStart start)
        {
            if (start.Resumed)
            {
                // A named event: a bare onmessage ignores it, addEventListener("recovery", …) reads it.
                output.Write("event: recovery\ndata: "u8);
                output.Write(start.ToJson());
                output.Write("\n\n"u8);
            }
            if (start.MovesClient)
            {
                // An id with no data dispatches nothing but sets the EventSource's last event id: a stream that
                // sees no event before it drops still resumes from here.
                WriteId(output, start.Position);
                output.Write("\n"u8);
            }
        }

        public override void WriteEvent(IBufferWriter<byte> output, EncodedMessage message)
        {
            if (message.Position is { } position)
            {
                WriteId(output, position);
            }
            output.Write("data: "u8);
            output.Write(StreamPayload.Of(message));
            output.Write("\n\n"u8);
        }

        public override void WriteHeartbeat(IBufferWriter<byte> output) => output.Write(":\n\n"u8);

        private static void WriteId(IBufferWriter<byte> output, StreamPosition position)
        {
            output.Write("id: "u8);
            output.Write(Encoding.ASCII.GetBytes(position.ToString()));
            output.Write("\n"u8);
        }

        public override void WriteEnd(IBufferWriter<byte> output) => output.Write(_end);
    }
}
