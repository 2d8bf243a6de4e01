using System.Text;
using System.Text.Json;
using Halley.Engine;

namespace Halley.Tests.Engine;

/// <summary>The wire form of positions, and how a message gets its position.</summary>
public class StreamPositionTests
{
    [Theory]
    [InlineData("k3j9x2ab", 0L)]
    [InlineData("k3j9x2ab", 42L)]
    [InlineData("a", long.MaxValue)]
    public void FormatUtf8_WritesWhatToStringSays_AndTryParseReadsItBack(string epoch, long offset)
    {
        var position = new StreamPosition(epoch, offset);
        Span<byte> buffer = stackalloc byte[StreamPosition.MaxFormattedLength];

        var text = Encoding.ASCII.GetString(buffer[..position.FormatUtf8(buffer)]);

        Assert.Equal(position.ToString(), text);
        Assert.True(StreamPosition.TryParse(text, out var parsed));
        Assert.Equal(position, parsed);
    }

    [Fact]
    public void AssignPosition_AddsTheExtField_ToTheEventAndItsFrame_KeepingTheRest()
    {
        var message = new EncodedMessage("/a/b", """{"channel":"/a/b","data":{"x":[1,"}]"]},"id":"m1"}"""u8.ToArray());

        message.AssignPosition(new StreamPosition("k3j9x2ab", 7));

        using var frame = JsonDocument.Parse(message.Frame);
        var only = Assert.Single(frame.RootElement.EnumerateArray());
        Assert.Equal("/a/b", only.GetProperty("channel").GetString());
        Assert.Equal("""{"x":[1,"}]"]}""", only.GetProperty("data").GetRawText());
        Assert.Equal("m1", only.GetProperty("id").GetString());
        Assert.Equal("k3j9x2ab:7", only.GetProperty("ext").GetProperty("halley").GetProperty("position").GetString());
        Assert.Equal(message.Json.ToArray(), message.Frame[1..^1].ToArray());
        Assert.Equal(new StreamPosition("k3j9x2ab", 7), message.Position);
    }
}
