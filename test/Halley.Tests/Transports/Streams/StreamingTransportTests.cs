using System.Buffers;
using System.Text;
using Halley.Engine;
using Halley.Http;
using Halley.Sessions;
using Halley.Transports.Streams;
using Microsoft.Extensions.Primitives;

namespace Halley.Tests.Transports.Streams;

public sealed class StreamingTransportTests
{
    private static EncodedMessage Message(string channel, string data, string id = "") =>
        EncodedMessage.FromFrame(channel, Halley.Protocol.BayeuxCodec.EncodeEventFrame(channel, Encoding.UTF8.GetBytes(data), Encoding.UTF8.GetBytes(id)));

    [Fact]
    public void Payload_IsChannelAndData_WithoutTheId_OnOneLine()
    {
        var message = Message("/a/b", "{\r\n\"x\": [1,\n2]}", "\"7\"");
        Assert.Equal("{\"channel\":\"/a/b\",\"data\":{  \"x\": [1, 2]}}", Encoding.UTF8.GetString(StreamPayload.Of(message)));
        Assert.True(StreamPayload.Of(message) == StreamPayload.Of(message)); // computed once, shared
    }

    [Fact]
    public void Html_EscapesWhatCouldEndTheScript()
    {
        var output = new ArrayBufferWriter<byte>();
        HtmlStreamFormat.WriteEscaped(output, Encoding.UTF8.GetBytes("{\"d\":\"</script>&<!--\u2028\u2029é\"}"));
        Assert.Equal("{\"d\":\"\\u003c/script\\u003e\\u0026\\u003c!--\\u2028\\u2029é\"}", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData(new[] { "/a", "/b/*", "/c/**" }, true)]
    [InlineData(new[] { "/a", "/a", "/a", "/b" }, true)] // duplicates count once
    [InlineData(new[] { "/a", "/b", "/c", "/d" }, false)]
    [InlineData(new[] { "/meta/connect" }, false)]
    [InlineData(new[] { "/service/x" }, false)]
    [InlineData(new[] { "/a/**/b" }, false)]
    [InlineData(new[] { "" }, false)]
    [InlineData(new string[0], false)]
    public void Channels_FollowTheSubscribeRules(string[] values, bool ok)
    {
        Assert.Equal(ok, StreamQuery.TryReadChannels(new StringValues(values), 3, out _, out var error));
        Assert.Equal(ok, error is null);
    }

    [Theory]
    [InlineData(null, true, 5)]
    [InlineData("0", true, 0)]
    [InlineData("100", true, 100)]
    [InlineData("101", false, 0)]
    [InlineData("-1", false, 0)]
    [InlineData("1e3", false, 0)]
    public void Padding_IsBounded(string? value, bool ok, int expected)
    {
        var settings = new StreamingOptions { Padding = 5, MaxPadding = 100 };
        var values = value is null ? StringValues.Empty : new StringValues(value);
        Assert.Equal(ok, StreamingTransport.TryReadPadding(values, settings, out var padding, out _));
        if (ok)
        {
            Assert.Equal(expected, padding);
        }
    }

    [Fact]
    public void Clock_AsksForAHeartbeatAfterQuiet_AndForCloseOnce()
    {
        var clock = new LiveClock(openedAt: 0, closeAt: 1000, heartbeatTicks: 100);
        Assert.Equal(LiveDue.Nothing, clock.Check(50));
        Assert.Equal(LiveDue.Heartbeat, clock.Check(100));
        Assert.Equal(LiveDue.Nothing, clock.Check(150));
        clock.Sent(180);
        Assert.Equal(LiveDue.Nothing, clock.Check(250));
        Assert.Equal(LiveDue.Heartbeat, clock.Check(280));
        Assert.Equal(LiveDue.Close, clock.Check(1000));
        Assert.Equal(LiveDue.Nothing, clock.Check(1100));
    }

    [Fact]
    public void Connection_OverItsQueue_EndsAndAborts_UnderDisconnect()
    {
        using var aborted = new ManualResetEventSlim();
        var connection = new StreamingConnection(2, QueueFullPolicy.Disconnect, new LiveClock(0, long.MaxValue, long.MaxValue), aborted.Set);
        connection.Deliver(Message("/a", "1"));
        connection.Deliver(Message("/a", "2"));
        connection.Deliver(Message("/a", "3"));
        Assert.True(aborted.Wait(TimeSpan.FromSeconds(5)));
        Assert.True(connection.Overflowed);
        var events = new List<EncodedMessage>();
        Assert.True(connection.Take(events).Ended);
        Assert.Empty(events);
    }

    [Fact]
    public void Connection_OverItsQueue_DropsTheOldest_UnderDropOldest()
    {
        var connection = new StreamingConnection(2, QueueFullPolicy.DropOldest, new LiveClock(0, long.MaxValue, long.MaxValue), () => throw new InvalidOperationException());
        connection.Deliver(Message("/a", "1"));
        connection.Deliver(Message("/a", "2"));
        connection.Deliver(Message("/a", "3"));
        Assert.True(connection.WaitAsync().IsCompleted);
        var events = new List<EncodedMessage>();
        var work = connection.Take(events);
        Assert.False(work.Ended);
        Assert.Equal(["2", "3"], events.Select(e => Encoding.UTF8.GetString(StreamPayload.Of(e))[^2..^1]));
    }

    [Fact]
    public async Task Connection_WakesItsWriter_OnDeliveryAndSweep()
    {
        var clock = new LiveClock(0, 1000, 100);
        var connection = new StreamingConnection(10, QueueFullPolicy.Disconnect, clock, () => { });
        var wait = connection.WaitAsync();
        Assert.False(wait.IsCompleted);
        connection.OnSweep(150);
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(connection.Take([]).Heartbeat);
        wait = connection.WaitAsync();
        connection.OnSweep(1000);
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(connection.Take([]).Close);
    }
}
