using System.Text;
using Halley.Protocol;

namespace Halley.Tests.Protocol;

public class BatchLimitsTests
{
    private static readonly BatchLimits Small = new(MaxMessages: 3, MaxMessageSize: 64, MaxDepth: 5);

    private static BatchParseError Parse(string json, out List<BayeuxMessage> messages) =>
        BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(json), Small, out messages);

    [Fact]
    public void ABatchAtTheMessageLimit_IsRead_OneMoreIsRefusedWhole()
    {
        Assert.Equal(BatchParseError.None, Parse("[{},{},{}]", out var three));
        Assert.Equal(3, three.Count);
        Assert.Equal(BatchParseError.TooManyMessages, Parse("[{},{},{},{}]", out var four));
        Assert.Empty(four);
        // Counted before the rest is read: what follows the limit need not even be JSON.
        Assert.Equal(BatchParseError.TooManyMessages, Parse("[1,2,3,4,!!!", out _));
    }

    [Theory]
    [InlineData("[{\"data\":[[[]]]}]", "None")]
    [InlineData("[{\"data\":[[[[]]]]}]", "TooDeep")]
    [InlineData("[{\"data\":{\"a\":{\"b\":{}}}}]", "None")]
    [InlineData("[{\"data\":{\"a\":{\"b\":{\"c\":{}}}}}]", "TooDeep")]
    [InlineData("[{\"data\":{\"a\":{\"b\":[1, {}]}}}]", "TooDeep")]
    [InlineData("[{\"data\":[[[ ]]]]}]", "MalformedJson")]
    [InlineData("[{\"data\":[[[x]]]}]", "MalformedJson")]
    [InlineData("[{\"data\":[[[[x", "TooDeep")]
    public void DepthBeyondTheLimit_IsTooDeep_NotMalformed(string json, string expected) =>
        Assert.Equal(expected, Parse(json, out _).ToString());

    [Fact]
    public void AMessageOverItsSize_IsRefusedAlone_WhateverElseIsWrongWithIt()
    {
        var big = "{\"channel\":\"/a\",\"data\":\"" + new string('x', 64) + "\"}";
        var wrongAndBig = "{\"channel\":5,\"data\":\"" + new string('x', 64) + "\"}";
        Assert.Equal(BatchParseError.None, Parse($"[{big},{{\"channel\":\"/b\",\"data\":1}},{wrongAndBig}]", out var messages));
        Assert.Equal("413::message_too_large", messages[0].Invalid);
        Assert.Null(messages[1].Invalid);
        Assert.Equal("413::message_too_large", messages[2].Invalid);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    public void BytesThatAreNotUtf8_AreRefusedWhole_InAChannelOrInData(byte[] bad)
    {
        // In a channel the reader could not transcode them (a 500 before this check); in data they were passed on to
        // every subscriber, whose WebSocket would close on a text frame that is not UTF-8. Found by the hostile corpus.
        byte[] inChannel = [.. "[{\"channel\":\"/a"u8, .. bad, .. "\",\"data\":1}]"u8];
        byte[] inData = [.. "[{\"channel\":\"/a\",\"data\":\""u8, .. bad, .. "\"}]"u8];
        Assert.Equal(BatchParseError.InvalidUtf8, BayeuxCodec.TryParseBatch(inChannel, Small, out var messages));
        Assert.Empty(messages);
        Assert.Equal(BatchParseError.InvalidUtf8, BayeuxCodec.TryParseBatch(inData, Small, out _));
    }

    [Fact]
    public void TheDefaultOverload_UsesTheDefaultLimits()
    {
        var deep = "[{\"data\":" + new string('[', 63) + new string(']', 63) + "}]";
        Assert.Equal(BatchParseError.TooDeep, BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(deep), out _));
        var batch = "[" + string.Join(",", Enumerable.Repeat("{}", 257)) + "]";
        Assert.Equal(BatchParseError.TooManyMessages, BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(batch), out _));
    }
}
