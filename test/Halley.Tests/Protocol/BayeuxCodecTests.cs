using System.Text;
using System.Text.Json;
using Halley.Protocol;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Protocol;

public class BayeuxCodecTests
{
    private static BatchParseError Parse(string json, out List<BayeuxMessage> messages) =>
        BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(json), out messages);

    private static BayeuxMessage ParseOne(string json)
    {
        Assert.Equal(BatchParseError.None, Parse(json, out var messages));
        return Assert.Single(messages);
    }

    [Fact]
    public void Parse_Array_ReadsEveryMessageInOrder()
    {
        var error = Parse("""[{"channel":"/meta/connect","clientId":"abc","connectionType":"long-polling"},{"channel":"/a/b","data":1}]""", out var messages);

        Assert.Equal(BatchParseError.None, error);
        Assert.Equal(2, messages.Count);
        Assert.Equal("/meta/connect", messages[0].Channel);
        Assert.Equal("abc", messages[0].ClientId);
        Assert.Equal("long-polling", messages[0].ConnectionType);
        Assert.Null(messages[0].Invalid);
        Assert.Equal("/a/b", messages[1].Channel);
        Assert.Equal("1", Wire.Text(messages[1].DataJson));
    }

    [Fact]
    public void Parse_SingleObject_IsOneMessage()
    {
        var message = ParseOne("""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket","long-polling"]}""");

        Assert.Equal("/meta/handshake", message.Channel);
        Assert.Equal("1.0", message.Version);
        Assert.Equal(["websocket", "long-polling"], message.SupportedConnectionTypes);
        Assert.Null(message.Invalid);
    }

    [Fact]
    public void Parse_EmptyArray_IsZeroMessages()
    {
        Assert.Equal(BatchParseError.None, Parse("[]", out var messages));
        Assert.Empty(messages);
    }

    [Theory]
    [InlineData("{\"channel\":")]
    [InlineData("[{\"channel\":\"/a\"}")]
    [InlineData("{channel:\"/a\"}")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[1,]")]
    public void Parse_MalformedJson_IsMalformedJson(string json)
    {
        Assert.Equal(BatchParseError.MalformedJson, Parse(json, out var messages));
        Assert.Empty(messages);
    }

    [Theory]
    [InlineData("{\"channel\":\"/a\"} x")]
    [InlineData("[{\"channel\":\"/a\"}]]")]
    [InlineData("[] []")]
    [InlineData("{} {}")]
    public void Parse_TrailingGarbage_IsMalformedJson(string json)
    {
        Assert.Equal(BatchParseError.MalformedJson, Parse(json, out _));
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("true")]
    public void Parse_TopLevelScalar_IsNotAMessageOrArray(string json)
    {
        Assert.Equal(BatchParseError.NotAMessageOrArray, Parse(json, out _));
    }

    [Fact]
    public void Parse_NonObjectArrayElements_BecomeInvalidMessages()
    {
        var error = Parse("""[1,{"channel":"/a","data":0},"x",[{"channel":"/b"}],null]""", out var messages);

        Assert.Equal(BatchParseError.None, error);
        Assert.Equal(5, messages.Count);
        Assert.Equal("400::message_not_an_object", messages[0].Invalid);
        Assert.Null(messages[1].Invalid);
        Assert.Equal("/a", messages[1].Channel);
        Assert.Equal("400::message_not_an_object", messages[2].Invalid);
        Assert.Equal("400::message_not_an_object", messages[3].Invalid);
        Assert.Equal("400::message_not_an_object", messages[4].Invalid);
    }

    [Theory]
    [InlineData("""{"channel":5}""", "channel")]
    [InlineData("""{"channel":{"a":1}}""", "channel")]
    [InlineData("""{"channel":"/a","clientId":{"x":1}}""", "clientId")]
    [InlineData("""{"channel":"/a","ext":"text"}""", "ext")]
    [InlineData("""{"channel":"/a","ext":[1]}""", "ext")]
    [InlineData("""{"channel":"/meta/subscribe","subscription":5}""", "subscription")]
    [InlineData("""{"channel":"/meta/subscribe","subscription":["/a",5]}""", "subscription")]
    [InlineData("""{"channel":"/meta/connect","advice":{"timeout":"1000"}}""", "advice.timeout")]
    [InlineData("""{"channel":"/meta/connect","advice":{"timeout":-1}}""", "advice.timeout")]
    [InlineData("""{"channel":"/meta/connect","advice":"x"}""", "advice")]
    [InlineData("""{"channel":"/meta/handshake","supportedConnectionTypes":"websocket"}""", "supportedConnectionTypes")]
    [InlineData("""{"channel":"/meta/handshake","version":1}""", "version")]
    [InlineData("""{"channel":"/meta/connect","connectionType":true}""", "connectionType")]
    [InlineData("""{"channel":"/a","id":true}""", "id")]
    [InlineData("""{"channel":"/a","id":{"n":1}}""", "id")]
    public void Parse_WrongFieldType_SetsInvalidNamingTheField(string json, string field)
    {
        var message = ParseOne(json);

        Assert.Equal($"400::invalid_field_{field}", message.Invalid);
    }

    [Theory]
    [InlineData("""{"channel":"/a/b","channel":"/meta/handshake","version":"1.0"}""", "duplicate_field_channel")]
    [InlineData("""{"channel":"/a/b","chan\u006eel":"/meta/handshake"}""", "duplicate_field_channel")]
    [InlineData("""{"channel":"/a","clientId":"x","clientId":"y"}""", "duplicate_field_clientId")]
    [InlineData("""{"channel":"/a","data":1,"data":2}""", "duplicate_field_data")]
    [InlineData("""{"channel":"/a","id":"1","id":"2"}""", "duplicate_field_id")]
    [InlineData("""{"channel":"/meta/handshake","version":"1.0","version":"2.0"}""", "duplicate_field_version")]
    [InlineData("""{"channel":"/meta/subscribe","subscription":"/a","subscription":"/b"}""", "duplicate_field_subscription")]
    [InlineData("""{"channel":"/meta/connect","connectionType":"long-polling","connectionType":"websocket"}""", "duplicate_field_connectionType")]
    [InlineData("""{"channel":"/a","ext":{},"ext":{}}""", "duplicate_field_ext")]
    [InlineData("""{"channel":"/a","ext":{"halley":{"token":"a","token":"b"}}}""", "duplicate_field_ext")]
    [InlineData("""{"channel":"/a","ext":{"ack":true,"ack":false}}""", "duplicate_field_ext")]
    [InlineData("""{"channel":"/meta/connect","advice":{"timeout":0,"timeout":60000}}""", "duplicate_field_advice")]
    [InlineData("""{"channel":"/meta/connect","advice":{"interval":0,"interval":1}}""", "duplicate_field_advice")]
    [InlineData("""{"channel":"/a","other":1,"other":2}""", "duplicate_field")]
    public void Parse_DuplicateField_SetsInvalid(string json, string reason)
    {
        var message = ParseOne(json);

        Assert.Equal($"400::{reason}", message.Invalid);
    }

    [Fact]
    public void Parse_DuplicateChannel_KeepsTheFirstValue_AndTheRestOfTheBatch()
    {
        var error = Parse("""[{"channel":"/a/b","channel":"/meta/handshake","data":1},{"channel":"/c","data":2}]""", out var messages);

        Assert.Equal(BatchParseError.None, error);
        Assert.Equal(2, messages.Count);
        // The second value is never used: the message cannot turn into a handshake, and its reply names what came first.
        Assert.Equal("/a/b", messages[0].Channel);
        Assert.Equal("400::duplicate_field_channel", messages[0].Invalid);
        Assert.Null(messages[1].Invalid);
        Assert.Equal("/c", messages[1].Channel);
    }

    [Theory]
    [InlineData("""{"channel":"/a","data":{"x":1,"x":2}}""")]
    [InlineData("""{"channel":"/a","data":1,"ext":{"a":{"x":1},"b":{"x":1}}}""")]
    [InlineData("""{"channel":"/meta/connect","advice":{"timeout":0,"interval":0}}""")]
    [InlineData("""{"channel":"/a","other":1,"another":1}""")]
    public void Parse_SameNameInDifferentObjects_OrInsideData_IsNotADuplicate(string json)
    {
        Assert.Null(ParseOne(json).Invalid);
    }

    [Fact]
    public void Parse_WrongFieldType_KeepsReadingTheRestOfTheBatch()
    {
        var error = Parse("""[{"channel":"/a","clientId":{"deep":[1,{"x":2}]},"data":7},{"channel":"/b","data":8}]""", out var messages);

        Assert.Equal(BatchParseError.None, error);
        Assert.Equal(2, messages.Count);
        Assert.Equal("400::invalid_field_clientId", messages[0].Invalid);
        Assert.Equal("7", Wire.Text(messages[0].DataJson));
        Assert.Null(messages[1].Invalid);
        Assert.Equal("/b", messages[1].Channel);
    }

    [Fact]
    public void Parse_FirstInvalidFieldWins()
    {
        var message = ParseOne("""{"channel":1,"clientId":2}""");

        Assert.Equal("400::invalid_field_channel", message.Invalid);
    }

    [Fact]
    public void Parse_NullOptionalFields_AreAbsentNotInvalid()
    {
        var message = ParseOne("""{"channel":"/a","clientId":null,"ext":null,"advice":{"timeout":null}}""");

        Assert.Null(message.Invalid);
        Assert.Null(message.ClientId);
        Assert.Null(message.Ext);
        Assert.Null(message.AdviceTimeout);
    }

    [Fact]
    public void Parse_AdviceTimeout_IsRead()
    {
        var message = ParseOne("""{"channel":"/meta/connect","advice":{"interval":0,"timeout":1500}}""");

        Assert.Equal(1500L, message.AdviceTimeout);
        Assert.Null(message.Invalid);
    }

    [Fact]
    public void Parse_SubscriptionString_IsNotArray()
    {
        var message = ParseOne("""{"channel":"/meta/subscribe","subscription":"/a/b"}""");

        Assert.Equal(["/a/b"], message.Subscriptions);
        Assert.False(message.SubscriptionIsArray);
    }

    [Fact]
    public void Parse_SubscriptionArray_IsArray()
    {
        var message = ParseOne("""{"channel":"/meta/subscribe","subscription":["/a","/b/*"]}""");

        Assert.Equal(["/a", "/b/*"], message.Subscriptions);
        Assert.True(message.SubscriptionIsArray);
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("\"a\\\"b\\u00e9\"")]
    [InlineData("42")]
    [InlineData("-1.5e3")]
    [InlineData("18446744073709551616")]
    public void Parse_Id_IsKeptAsRawToken(string id)
    {
        var message = ParseOne($$"""{"channel":"/a","id":{{id}},"data":1}""");

        Assert.Equal(id, Wire.Text(message.IdJson));
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("42")]
    [InlineData("\"x\\\"y\"")]
    public void Reply_EchoesIdExactly(string id)
    {
        var message = ParseOne($$"""{"channel":"/meta/connect","id":{{id}}}""");

        var json = Wire.Write(new BayeuxReply("/meta/connect", message) { Successful = true });

        Assert.Equal($$"""{"channel":"/meta/connect","id":{{id}},"successful":true}""", json);
    }

    [Theory]
    [InlineData("""{"a":[1,2,{"b":null}],"c":"d"}""")]
    [InlineData("""[1,"two",3.0,false]""")]
    [InlineData("\"line\\nbreak \\\"quoted\\\" \\u00e9 \\\\ /\"")]
    [InlineData("12345678901234567890.5e-3")]
    [InlineData("null")]
    [InlineData("{ \"spaced\" : [ 1 , 2 ] }")]
    public void Parse_Data_IsKeptAsRawJson(string data)
    {
        var message = ParseOne($$"""{"channel":"/a/b","data":{{data}},"id":"1"}""");

        Assert.True(message.HasData);
        Assert.Equal(data, Wire.Text(message.DataJson));
    }

    [Fact]
    public void Parse_NoData_HasDataIsFalse()
    {
        var message = ParseOne("""{"channel":"/a/b"}""");

        Assert.False(message.HasData);
        Assert.True(message.DataJson.IsEmpty);
    }

    [Fact]
    public void Parse_UnknownFields_AreSkipped()
    {
        var message = ParseOne("""{"extra":{"channel":"/wrong"},"channel":"/right","more":[1,2],"data":3}""");

        Assert.Equal("/right", message.Channel);
        Assert.Equal("3", Wire.Text(message.DataJson));
        Assert.Null(message.Invalid);
    }

    [Fact]
    public void Parse_Ext_IsReadableObject()
    {
        var message = ParseOne("""{"channel":"/meta/connect","ext":{"ack":3,"halley":{"token":"t"}}}""");

        Assert.True(message.TryGetExt("ack", out var ack));
        Assert.Equal(3, ack.GetInt32());
        Assert.True(message.TryGetExt("halley", out var halley));
        Assert.Equal("t", halley.GetProperty("token").GetString());
        Assert.False(message.TryGetExt("missing", out _));
    }

    // A property name may legally be written with JSON escapes; it names the same field.
    [Fact]
    public void Parse_EscapedPropertyName_IsMatchedUnescaped()
    {
        var message = ParseOne("""{"ch\u0061nnel":"/a/b","data":1}""");

        Assert.Null(message.Invalid);
        Assert.Equal("/a/b", message.Channel);
    }

    [Fact]
    public void Parse_EscapedPropertyNameWithNumberValue_DoesNotThrow()
    {
        var error = BayeuxCodec.TryParseBatch("""{"channel":"/a","\u0069d":7,"data":1}"""u8.ToArray(), out var messages);

        Assert.Equal(BatchParseError.None, error);
        Assert.Equal("7", Wire.Text(Assert.Single(messages).IdJson));
    }

    [Theory]
    [InlineData("""{"x":1}""", "\"7\"")]
    [InlineData("[1,\"a\\\"b\"]", "")]
    [InlineData("\"s\\u00e9\"", "12")]
    [InlineData("-0.25", "")]
    public void EncodeEvent_WritesChannelDataId_AndRoundTrips(string data, string id)
    {
        var encoded = BayeuxCodec.EncodeEvent("/a/b", Encoding.UTF8.GetBytes(data), Encoding.UTF8.GetBytes(id));

        var expected = id.Length == 0
            ? $$"""{"channel":"/a/b","data":{{data}}}"""
            : $$"""{"channel":"/a/b","data":{{data}},"id":{{id}}}""";
        Assert.Equal(expected, Encoding.UTF8.GetString(encoded));

        var back = ParseOne(Encoding.UTF8.GetString(encoded));
        Assert.Equal("/a/b", back.Channel);
        Assert.Equal(data, Wire.Text(back.DataJson));
        Assert.Equal(id, Wire.Text(back.IdJson));
        Assert.Null(back.Invalid);
    }

    [Fact]
    public void WriteBatch_WritesRepliesThenEvents_AsOneArray()
    {
        var connect = ParseOne("""{"channel":"/meta/connect","id":"5","clientId":"c1"}""");
        var reply = new BayeuxReply(MetaChannels.Connect, connect) { Successful = true, ClientId = "c1" };
        ReadOnlyMemory<byte> first = BayeuxCodec.EncodeEvent("/a", "1"u8, default);
        ReadOnlyMemory<byte> second = BayeuxCodec.EncodeEvent("/b", "{\"k\":true}"u8, "\"9\""u8);

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            BayeuxCodec.WriteBatch(writer, [reply], [first, second]);
        }

        var json = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Equal(
            """[{"channel":"/meta/connect","id":"5","clientId":"c1","successful":true},{"channel":"/a","data":1},{"channel":"/b","data":{"k":true},"id":"9"}]""",
            json);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(3, document.RootElement.GetArrayLength());
    }

    [Fact]
    public void WriteBatch_Empty_IsEmptyArray()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            BayeuxCodec.WriteBatch(writer, [], []);
        }

        Assert.Equal("[]", Encoding.UTF8.GetString(stream.ToArray()));
    }
}
