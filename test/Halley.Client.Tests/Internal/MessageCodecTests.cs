using System.Text;
using System.Text.Json;
using Halley.Client.Internal;

namespace Halley.Client.Tests.Internal;

public class MessageCodecTests
{
    [Fact]
    public void HandshakeIsAnArrayWithVersionAndConnectionTypes()
    {
        var json = Encode(new OutboundMessage
        {
            Channel = "/meta/handshake",
            Version = "1.0",
            SupportedConnectionTypes = MessageCodec.SupportedConnectionTypes,
            Id = "1",
        });

        Assert.Equal("""[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket","long-polling"],"id":"1"}]""", json);
    }

    [Fact]
    public void ConnectCarriesAdviceTimeoutAndExt()
    {
        var json = Encode(new OutboundMessage
        {
            Channel = "/meta/connect",
            ClientId = "abc",
            ConnectionType = "websocket",
            AdviceTimeout = 0,
            Ext = JsonSerializer.SerializeToElement(new { halley = new { token = "t" } }),
            Id = "2",
        });

        Assert.Equal("""[{"channel":"/meta/connect","clientId":"abc","connectionType":"websocket","advice":{"timeout":0},"ext":{"halley":{"token":"t"}},"id":"2"}]""", json);
    }

    [Fact]
    public void NullFieldsAreLeftOut()
    {
        Assert.Equal("""[{"channel":"/meta/subscribe","clientId":"c","subscription":"/a/**","id":"3"}]""",
            Encode(new OutboundMessage { Channel = "/meta/subscribe", ClientId = "c", Subscription = "/a/**", Id = "3" }));
    }

    [Fact]
    public void PublishDataIsSerializedWithWebDefaults()
    {
        var json = Encode(new OutboundMessage { Channel = "/chat/a", Data = MessageCodec.ToJson(new { Text = "hi", Count = 2 }), Id = "4" });

        Assert.Equal("""[{"channel":"/chat/a","data":{"text":"hi","count":2},"id":"4"}]""", json);
    }

    [Fact]
    public void JsonElementDataIsSentAsItIs()
    {
        var element = JsonDocument.Parse("""{"Raw":[1,2,{"x":null}]}""").RootElement;

        Assert.Equal(element.GetRawText(), MessageCodec.ToJson(element).GetRawText());
        Assert.Equal(JsonValueKind.Null, MessageCodec.ToJson(null).ValueKind);
        Assert.Equal("\"s\"", MessageCodec.ToJson("s").GetRawText());
    }

    [Fact]
    public void ParsesRepliesAndEvents()
    {
        var messages = Parse("""
            [{"channel":"/meta/connect","successful":true,"advice":{"reconnect":"retry","interval":0,"timeout":20000},"id":"2"},
             {"channel":"/chat/a","data":{"text":"hi"},"id":"9","ext":{"k":1}}]
            """);

        Assert.Equal(2, messages.Count);
        var reply = messages[0];
        Assert.True(reply.IsReply);
        Assert.True(reply.Successful);
        Assert.Equal("2", reply.Id);
        Assert.Equal(new Advice("retry", 0, 20000), reply.Advice);

        var @event = messages[1];
        Assert.False(@event.IsReply);
        Assert.Equal("/chat/a", @event.Channel);
        Assert.Equal("hi", @event.Data!.Value.GetProperty("text").GetString());
        Assert.Equal(1, @event.Ext!.Value.GetProperty("k").GetInt32());
    }

    [Fact]
    public void HandshakeReplyYieldsClientIdAndToken()
    {
        var reply = Parse("""[{"channel":"/meta/handshake","successful":true,"clientId":"0123456789abcdef0123456789abcdef","version":"1.0","ext":{"halley":{"token":"opaque"}},"id":"1"}]""")[0];

        Assert.Equal("0123456789abcdef0123456789abcdef", reply.ClientId);
        Assert.Equal("opaque", reply.HalleyToken);
    }

    [Theory]
    [InlineData("""{"channel":"/meta/connect","successful":false,"error":"402::session_unknown","id":"1"}""", true)]
    [InlineData("""{"channel":"/meta/connect","successful":false,"error":"400::bad","advice":{"reconnect":"handshake"},"id":"1"}""", true)]
    [InlineData("""{"channel":"/chat/a","successful":false,"error":"403::forbidden","id":"1"}""", false)]
    [InlineData("""{"channel":"/meta/connect","successful":true,"advice":{"reconnect":"handshake"},"id":"1"}""", false)]
    [InlineData("""{"channel":"/chat/a","data":"402::not an error","id":"1"}""", false)]
    public void RecognizesALostSession(string json, bool lost) =>
        Assert.Equal(lost, Parse($"[{json}]")[0].MeansSessionLost);

    [Fact]
    public void EventWithAnIdIsStillAnEvent()
    {
        // Publishers choose event ids; only "successful" makes a message a reply.
        Assert.False(Parse("""[{"channel":"/chat/a","data":1,"id":"2"}]""")[0].IsReply);
    }

    [Fact]
    public void AcceptsASingleObject() =>
        Assert.Single(Parse("""{"channel":"/meta/connect","successful":true}"""));

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    public void RejectsWhatIsNotAMessageArray(string payload) =>
        Assert.ThrowsAny<JsonException>(() => Parse(payload));

    [Fact]
    public void AdviceMergeKeepsOmittedFields()
    {
        var merged = new Advice("retry", 0, 20000).Merge(new Advice(null, 500, null));

        Assert.Equal(new Advice("retry", 500, 20000), merged);
    }

    [Theory]
    [InlineData("402::session_unknown", 402)]
    [InlineData("403:/chat:forbidden", 403)]
    [InlineData("oops", null)]
    [InlineData(null, null)]
    public void ParsesErrorCodes(string? error, int? code) =>
        Assert.Equal(code, new BayeuxException("m", error, "/c").ErrorCode);

    private static string Encode(OutboundMessage message) => Encoding.UTF8.GetString(MessageCodec.Encode([message]));

    private static IReadOnlyList<InboundMessage> Parse(string json) => MessageCodec.Parse(Encoding.UTF8.GetBytes(json));
}
