using System.Buffers;
using System.Text;
using Halley.Engine;
using Halley.Http;

namespace Halley.Transports.Streams;

/// <summary>
/// The forever-frame: <c>&lt;script&gt;callback({…});&lt;/script&gt;</c> per event. The payload is JSON, so
/// <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> can only occur inside its strings, where <c>\u003c</c> means the
/// same; escaping them (and U+2028/U+2029) keeps <c>&lt;/script&gt;</c> or <c>&lt;!--</c> in a payload from ending the script.
/// </summary>
internal sealed class HtmlStreamFormat(string callback) : StreamFormat
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
