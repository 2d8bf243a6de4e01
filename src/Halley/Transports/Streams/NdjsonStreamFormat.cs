using System.Buffers;
using Halley.Engine;
using Halley.Http;

namespace Halley.Transports.Streams;

/// <summary>One JSON object per line (<c>application/x-ndjson</c>); empty or blank lines are heartbeats and padding.</summary>
internal sealed class NdjsonStreamFormat : StreamFormat
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
