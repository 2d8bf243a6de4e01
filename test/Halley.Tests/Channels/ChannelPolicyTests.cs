using Halley.Channels;

namespace Halley.Tests.Channels;

public class ChannelPolicyTests
{
    [Theory]
    [InlineData("/chat/room1", ChannelVerdict.Allowed)]
    [InlineData("/chat/*", ChannelVerdict.Allowed)]
    [InlineData("/**", ChannelVerdict.Allowed)]
    [InlineData("/meta/connect", ChannelVerdict.Meta)]
    [InlineData("/meta/**", ChannelVerdict.Meta)]
    [InlineData("/service/echo", ChannelVerdict.Service)]
    [InlineData("/service/*", ChannelVerdict.Service)]
    [InlineData("chat", ChannelVerdict.Invalid)]
    [InlineData("/a/**/b", ChannelVerdict.Invalid)]
    [InlineData("", ChannelVerdict.Invalid)]
    [InlineData(null, ChannelVerdict.Invalid)]
    public void ForSubscribe(string? channel, ChannelVerdict expected) => Assert.Equal(expected, ChannelPolicy.ForSubscribe(channel));

    [Theory]
    [InlineData("/chat/room1", ChannelVerdict.Allowed)]
    [InlineData("/service/echo", ChannelVerdict.Allowed)]
    [InlineData("/chat/*", ChannelVerdict.Wildcard)]
    [InlineData("/meta/handshake", ChannelVerdict.Meta)]
    [InlineData("/chat/room 1", ChannelVerdict.Invalid)]
    public void ForClientPublish(string channel, ChannelVerdict expected) => Assert.Equal(expected, ChannelPolicy.ForClientPublish(channel));

    [Theory]
    [InlineData("/chat/room1", ChannelVerdict.Allowed)]
    [InlineData("/service/echo", ChannelVerdict.Service)]
    [InlineData("/chat/**", ChannelVerdict.Wildcard)]
    [InlineData("/meta/connect", ChannelVerdict.Meta)]
    [InlineData("/", ChannelVerdict.Invalid)]
    public void ForBroadcast(string channel, ChannelVerdict expected) => Assert.Equal(expected, ChannelPolicy.ForBroadcast(channel));

    [Theory]
    [InlineData("/service/echo", ChannelVerdict.Allowed)]
    [InlineData("/service/*", ChannelVerdict.Wildcard)]
    [InlineData("/chat/room1", ChannelVerdict.NotService)]
    [InlineData("/meta/connect", ChannelVerdict.Meta)]
    public void ForService(string channel, ChannelVerdict expected) => Assert.Equal(expected, ChannelPolicy.ForService(channel));

    [Theory]
    [InlineData("cb", true)]
    [InlineData("jQuery123_456.done$", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("alert(1)", false)]
    [InlineData("a b", false)]
    [InlineData("x</script>", false)]
    // The regex this rule replaced (^[A-Za-z0-9_.$]{1,64}$) let a trailing line feed through: $ also matches before one.
    [InlineData("cb\n", false)]
    [InlineData("caf\u00e9", false)]
    public void IsValidCallbackName(string? name, bool expected) => Assert.Equal(expected, ChannelPolicy.IsValidCallbackName(name));

    [Fact]
    public void IsValidCallbackName_AllowsSixtyFourCharactersAndNoMore()
    {
        Assert.True(ChannelPolicy.IsValidCallbackName(new string('a', ChannelPolicy.MaxCallbackNameLength)));
        Assert.False(ChannelPolicy.IsValidCallbackName(new string('a', ChannelPolicy.MaxCallbackNameLength + 1)));
    }
}
