using System.Buffers;
using Halley.Channels;
using System.Text;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Streams;

/// <summary>
/// <c>GET /stream?channel=…</c>: the same events as <c>/sse</c>, as newline-delimited JSON over a chunked response
/// for <c>fetch()</c> readers; an empty line is a heartbeat. The first line is a control object (see
/// <see cref="StreamStart.ToJson"/>); <c>?lastEventId=</c> resumes from a position. With <c>?format=html&amp;callback=name</c> it is the
/// classic forever-frame: an HTML page of <c>&lt;script&gt;name({…});&lt;/script&gt;</c> chunks.
/// </summary>
internal sealed class HttpStreamingTransport(MessageEngine engine, LiveConnections connections, HalleyMetrics metrics, BayeuxCors cors, ConnectionAuthorization authorization, IOptions<HalleyOptions> options, ILogger<HttpStreamingTransport> logger)
    : StreamingTransport(engine, connections, metrics, cors, authorization, options.Value, logger)
{
    private static readonly NdjsonFormat Ndjson = new();

    protected override string Name => "stream";

    protected override StreamFormat? SelectFormat(HttpRequest request, out string? error)
    {
        error = null;
        var format = request.Query["format"];
        if (format.Count == 0 || format == "ndjson")
        {
            return Ndjson;
        }
        if (format != "html")
        {
            error = "Invalid 'format': 'ndjson' (the default) or 'html'.";
            return null;
        }
        var callback = request.Query["callback"].ToString();
        if (!ChannelPolicy.IsValidCallbackName(callback))
        {
            error = "Missing or invalid 'callback' name: " + ChannelPolicy.CallbackNameRule;
            return null;
        }
        return new HtmlFormat(callback);
    }

    /// <summary>One JSON object per line (<c>application/x-ndjson</c>); empty or blank lines are heartbeats and padding.</summary>
    internal sealed class NdjsonFormat : StreamFormat
    {
        public override string ContentType => "application/x-ndjson; charset=utf-8";

        public override void WritePadding(IBufferWriter<byte> output, int padding)
        {
            Fill(output, (byte)' ', padding - 1);
            output.Write("\n"u8);
        }

        public override void WriteStart(IBufferWriter<byte> output, StreamStart start)
        {
            output.Write(start.ToJson());
            output.Write("\n"u8);
        }

        public override void WriteEvent(IBufferWriter<byte> output, EncodedMessage message)
        {
            output.Write(StreamPayload.Of(message));
            output.Write("\n"u8);
        }

        public override void WriteHeartbeat(IBufferWriter<byte> output) => output.Write("\n"u8);

        public override void WriteEnd(IBufferWriter<byte> output)
        {
            // The chunked response simply ends; a fetch() reader sees the end of the body and reconnects.
        }
    }

    /// <summary>
    /// The forever-frame: <c>&lt;script&gt;callback({…});&lt;/script&gt;</c> per event. The payload is JSON, so
    /// <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> can only occur inside its strings, where <c>\u003c</c> means the
    /// same; escaping them (and U+2028/U+2029) keeps <c>&lt;/script&gt;</c> or <c>&lt;!--</c> in a payload from ending the script.
    /// </summary>
    internal sealed class HtmlFormat(string callback) : StreamFormat
    {
        // 0xE2 is the lead byte of U+2028 and U+2029.
        private static readonly SearchValues<byte> Special = SearchValues.Create([(byte)'<', (byte)'>', (byte)'&', (byte)0xE2]);

        private readonly byte[] _open = Encoding.ASCII.GetBytes("<script>" + callback + "(");

        public override string ContentType => "text/html; charset=utf-8";

        public override void WritePrelude(IBufferWriter<byte> output) =>
            output.Write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n"u8);

        public override void WritePadding(IBufferWriter<byte> output, int padding)
        {
            Fill(output, (byte)' ', padding - 1);
            output.Write("\n"u8);
        }

        public override void WriteStart(IBufferWriter<byte> output, StreamStart start)
        {
            output.Write(_open);
            output.Write(start.ToJson());
            output.Write(");</script>\n"u8);
        }

        public override void WriteEvent(IBufferWriter<byte> output, EncodedMessage message)
        {
            output.Write(_open);
            WriteEscaped(output, StreamPayload.Of(message));
            output.Write(");</script>\n"u8);
        }

        public override void WriteHeartbeat(IBufferWriter<byte> output) => output.Write("\n"u8);

        public override void WriteEnd(IBufferWriter<byte> output) => output.Write("</body></html>\n"u8);

        internal static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<byte> json)
        {
            while (!json.IsEmpty)
            {
                var i = json.IndexOfAny(Special);
                if (i < 0)
                {
                    output.Write(json);
                    return;
                }
                output.Write(json[..i]);
                json = json[i..];
                switch (json[0])
                {
                    case (byte)'<':
                        output.Write("\\u003c"u8);
                        json = json[1..];
                        break;
                    case (byte)'>':
                        output.Write("\\u003e"u8);
                        json = json[1..];
                        break;
                    case (byte)'&':
                        output.Write("\\u0026"u8);
                        json = json[1..];
                        break;
                    default:
                        // 0xE2: the lead byte of U+2028 (E2 80 A8) and U+2029 (E2 80 A9), line terminators in old JavaScript.
                        if (json.Length >= 3 && json[1] == 0x80 && json[2] is 0xA8 or 0xA9)
                        {
                            output.Write(json[2] == 0xA8 ? "\\u2028"u8 : "\\u2029"u8);
                            json = json[3..];
                        }
                        else
                        {
                            output.Write(json[..1]);
                            json = json[1..];
                        }
                        break;
                }
            }
        }
    }
}
