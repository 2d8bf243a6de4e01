using System.Buffers;
using System.Text;
using Halley.Engine;
using Halley.Transports.Streams;
using Microsoft.AspNetCore.Http;

namespace Halley.Tests.Transports.Streams;

public sealed class EventSourceTransportTests
{
    private static EncodedMessage Message(string channel, string data) =>
        EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, Encoding.UTF8.GetBytes(data), default));

    private static string Write(params EncodedMessage[] events)
    {
        var output = new ArrayBufferWriter<byte>();
        EventSourceTransport.WriteBatch(output, [.. events]);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void OneEvent_IsABayeuxArrayOnOneDataLine()
    {
        Assert.Equal("data: [{\"channel\":\"/a\",\"data\":1}]\n\n", Write(Message("/a", "1")));
    }

    [Fact]
    public void SeveralEvents_AreOneArray_InOrder()
    {
        Assert.Equal(
            "data: [{\"channel\":\"/a\",\"data\":1},{\"channel\":\"/b\",\"data\":\"x\"}]\n\n",
            Write(Message("/a", "1"), Message("/b", "\"x\"")));
    }

    [Fact]
    public void LineBreaksBetweenTokens_BecomeSpaces_SoTheEventStaysOneLine()
    {
        var text = Write(Message("/a", "{\r\n  \"k\": [1,\n2]\n}"), Message("/b", "[\n]"));

        Assert.Equal("data: [{\"channel\":\"/a\",\"data\":{    \"k\": [1, 2] }},{\"channel\":\"/b\",\"data\":[ ]}]\n\n", text);
        var json = text["data: ".Length..^2];
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(json).RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("text/event-stream", true)]
    [InlineData("text/html, text/event-stream;q=0.9", true)]
    [InlineData("TEXT/EVENT-STREAM", true)]
    [InlineData("*/*", false)]
    [InlineData(null, false)]
    public void EventStreamRequests_AreRecognisedByTheirAcceptHeader(string? accept, bool expected)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        Assert.Equal(expected, EventSourceTransport.IsEventStreamRequest(context.Request));
    }
}
