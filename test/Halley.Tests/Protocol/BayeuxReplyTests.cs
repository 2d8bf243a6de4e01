using System.Text;
using System.Text.Json.Nodes;
using Halley.Protocol;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Protocol;

public class BayeuxReplyTests
{
    private static BayeuxMessage Message(string json)
    {
        Assert.Equal(BatchParseError.None, BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(json), out var messages));
        return Assert.Single(messages);
    }

    [Fact]
    public void Subscription_SentAsString_IsRepliedAsString()
    {
        var request = Message("""{"channel":"/meta/subscribe","subscription":"/a/b"}""");
        var reply = new BayeuxReply(MetaChannels.Subscribe, request)
        {
            Successful = true,
            ClientId = "c",
            Subscriptions = request.Subscriptions,
            SubscriptionIsArray = request.SubscriptionIsArray,
        };

        Assert.Equal("""{"channel":"/meta/subscribe","clientId":"c","successful":true,"subscription":"/a/b"}""", Wire.Write(reply));
    }

    [Fact]
    public void Subscription_SentAsOneElementArray_IsRepliedAsArray()
    {
        var request = Message("""{"channel":"/meta/subscribe","subscription":["/a/b"]}""");
        var reply = new BayeuxReply(MetaChannels.Subscribe, request)
        {
            Successful = true,
            Subscriptions = request.Subscriptions,
            SubscriptionIsArray = request.SubscriptionIsArray,
        };

        Assert.Equal("""{"channel":"/meta/subscribe","successful":true,"subscription":["/a/b"]}""", Wire.Write(reply));
    }

    [Fact]
    public void Subscription_SeveralChannels_IsArray()
    {
        var reply = new BayeuxReply(MetaChannels.Subscribe, null) { Successful = true, Subscriptions = ["/a", "/b/**"] };

        Assert.Equal("""{"channel":"/meta/subscribe","successful":true,"subscription":["/a","/b/**"]}""", Wire.Write(reply));
    }

    [Fact]
    public void Advice_WritesEveryFieldThatIsSet()
    {
        var reply = new BayeuxReply(MetaChannels.Connect, null)
        {
            Successful = true,
            Advice = new Advice { Reconnect = ReconnectAdvice.Retry, Interval = 0, Timeout = 20000, MaxInterval = 10000 },
        };

        Assert.Equal(
            """{"channel":"/meta/connect","successful":true,"advice":{"reconnect":"retry","interval":0,"timeout":20000,"maxInterval":10000}}""",
            Wire.Write(reply));
    }

    [Fact]
    public void Advice_Handshake_And_Stop_UseWireNames()
    {
        var handshake = new BayeuxReply(MetaChannels.Connect, null) { Advice = Advice.Handshake };
        var stop = new BayeuxReply(MetaChannels.Connect, null) { Advice = Advice.Stop };

        Assert.Equal("""{"channel":"/meta/connect","successful":false,"advice":{"reconnect":"handshake","interval":0}}""", Wire.Write(handshake));
        Assert.Equal("""{"channel":"/meta/connect","successful":false,"advice":{"reconnect":"none"}}""", Wire.Write(stop));
    }

    [Fact]
    public void HandshakeFields_AreVersionMinimumVersionAndConnectionTypes()
    {
        var reply = new BayeuxReply(MetaChannels.Handshake, null) { Successful = true, ClientId = "abc", IncludeHandshakeFields = true };

        Assert.Equal(
            """{"channel":"/meta/handshake","clientId":"abc","successful":true,"version":"1.0","minimumVersion":"1.0","supportedConnectionTypes":["websocket","eventsource","long-polling","cross-origin-long-polling","callback-polling"]}""",
            Wire.Write(reply));
    }

    [Fact]
    public void Failure_WritesErrorClientIdAndId()
    {
        var request = Message("""{"channel":"/a/b","id":3,"clientId":"xyz","data":1}""");

        var reply = BayeuxReply.Failure(request, "403:/a/b:nope", Advice.Handshake);

        Assert.Equal(
            """{"channel":"/a/b","id":3,"clientId":"xyz","successful":false,"error":"403:/a/b:nope","advice":{"reconnect":"handshake","interval":0}}""",
            Wire.Write(reply));
    }

    [Fact]
    public void DataAndExt_AreWrittenLast()
    {
        var reply = new BayeuxReply("/service/echo", null)
        {
            Successful = true,
            DataJson = "{\"v\":[1,2]}"u8.ToArray(),
            Ext = new JsonObject { ["ack"] = 4 },
        };

        Assert.Equal("""{"channel":"/service/echo","successful":true,"data":{"v":[1,2]},"ext":{"ack":4}}""", Wire.Write(reply));
    }

    [Fact]
    public void Errors_AreCodeArgsMessage_WithSanitizedArgs()
    {
        Assert.Equal("400:/a_b:invalid_channel", BayeuxErrors.InvalidChannel("/a:b"));
        Assert.Equal("403:3:too_many_subscriptions", BayeuxErrors.TooManySubscriptions(3));
        Assert.Equal(128, BayeuxErrors.InvalidChannel(new string('x', 500)).Split(':')[1].Length);
    }
}
