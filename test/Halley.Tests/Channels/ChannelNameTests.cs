using Halley.Channels;

namespace Halley.Tests.Channels;

public class ChannelNameTests
{
    [Theory]
    [InlineData("/a")]
    [InlineData("/a/b/c")]
    [InlineData("/chat/room-1_x!~()$@.z")]
    [InlineData("/meta/connect")]
    [InlineData("/service/echo")]
    [InlineData("/A/Z/0/9")]
    public void IsValid_ConcreteNames_AreValidAndNotWildcards(string name)
    {
        Assert.True(ChannelName.IsValid(name, out var isWildcard));
        Assert.False(isWildcard);
    }

    [Theory]
    [InlineData("/a/*")]
    [InlineData("/a/**")]
    [InlineData("/**")]
    [InlineData("/*")]
    [InlineData("/a/b/c/**")]
    public void IsValid_WildcardAsLastSegment_IsValidWildcard(string name)
    {
        Assert.True(ChannelName.IsValid(name, out var isWildcard));
        Assert.True(isWildcard);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData("/a//b")]
    [InlineData("/a/")]
    [InlineData("/a/../b")]
    [InlineData("/a/./b")]
    [InlineData("/..")]
    [InlineData("/a/...")]
    [InlineData("/a b")]
    [InlineData("/a/ b")]
    [InlineData("/a/*/b")]
    [InlineData("/a/**/b")]
    [InlineData("/*/a")]
    [InlineData("/a/***")]
    [InlineData("/a/b*")]
    [InlineData("/a/*b")]
    [InlineData("/a:b")]
    [InlineData("/a/é")]
    [InlineData("/a?b")]
    public void IsValid_MalformedNames_AreInvalid(string? name)
    {
        Assert.False(ChannelName.IsValid(name, out _));
    }

    [Fact]
    public void IsValid_LongestName_IsValid_OneMoreIsNot()
    {
        var longest = "/" + new string('a', ChannelName.MaxLength - 1);
        Assert.Equal(256, longest.Length);

        Assert.True(ChannelName.IsValid(longest, out _));
        Assert.False(ChannelName.IsValid(longest + "a", out _));
    }

    [Fact]
    public void IsValid_MaxSegments_IsValid_OneMoreIsNot()
    {
        var sixteen = string.Concat(Enumerable.Repeat("/s", ChannelName.MaxSegments));

        Assert.True(ChannelName.IsValid(sixteen, out _));
        Assert.False(ChannelName.IsValid(sixteen + "/s", out _));
        Assert.False(ChannelName.IsValid(sixteen + "/**", out _));
    }

    [Theory]
    [InlineData("/meta/connect", ChannelKind.Meta)]
    [InlineData("/meta", ChannelKind.Meta)]
    [InlineData("/meta/x/y", ChannelKind.Meta)]
    [InlineData("/service/echo", ChannelKind.Service)]
    [InlineData("/service", ChannelKind.Service)]
    [InlineData("/metadata", ChannelKind.Broadcast)]
    [InlineData("/services/x", ChannelKind.Broadcast)]
    [InlineData("/chat/meta", ChannelKind.Broadcast)]
    [InlineData("/a/b", ChannelKind.Broadcast)]
    public void KindOf_ClassifiesByFirstSegment(string name, ChannelKind kind)
    {
        Assert.Equal(kind, ChannelName.KindOf(name));
    }

    [Fact]
    public void MatchingKeys_ThreeSegments_AreExactlyNameParentStarAndAncestorDoubleStars()
    {
        var keys = ChannelName.MatchingKeys("/a/b/c");

        Assert.Equal(5, keys.Count);
        Assert.Equal(
            new HashSet<string>(StringComparer.Ordinal) { "/a/b/c", "/a/b/*", "/a/b/**", "/a/**", "/**" },
            keys.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void MatchingKeys_OneSegment()
    {
        Assert.Equal(
            new HashSet<string>(StringComparer.Ordinal) { "/a", "/*", "/**" },
            ChannelName.MatchingKeys("/a").ToHashSet(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/a/*", "/a/b/c", false)]
    [InlineData("/a/*", "/a", false)]
    [InlineData("/a/*", "/ab", false)]
    [InlineData("/a/**", "/a/b", true)]
    [InlineData("/a/**", "/a/b/c", true)]
    [InlineData("/a/**", "/a", false)]
    [InlineData("/a/**", "/ab/c", false)]
    [InlineData("/**", "/x", true)]
    [InlineData("/**", "/x/y/z", true)]
    [InlineData("/*", "/x", true)]
    [InlineData("/*", "/x/y", false)]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b", "/a/bc", false)]
    [InlineData("/a/b", "/a", false)]
    public void Matches(string pattern, string channel, bool expected)
    {
        Assert.Equal(expected, ChannelName.Matches(pattern, channel));
    }

    [Theory]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b", "/a/c", false)]
    [InlineData("/a/b", "/a/b/c", false)]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/a/*", "/ab", false)]
    [InlineData("/a/*", "/a/b/c", false)]
    [InlineData("/a/*", "/a/*", true)]
    [InlineData("/a/*", "/a/**", true)]
    [InlineData("/a/*", "/a/b/*", false)]
    [InlineData("/a/**", "/a", false)]
    [InlineData("/a/**", "/a/b/c", true)]
    [InlineData("/a/**", "/a/b/*", true)]
    [InlineData("/a/**", "/a/b/**", true)]
    [InlineData("/a/b/**", "/a/c/**", false)]
    [InlineData("/a/b/**", "/a/b", false)]
    [InlineData("/*", "/**", true)]
    [InlineData("/**", "/x/y/z", true)]
    public void Overlaps_WhenSomeChannelMatchesBoth_InEitherOrder(string a, string b, bool expected)
    {
        Assert.Equal(expected, ChannelName.Overlaps(a, b));
        Assert.Equal(expected, ChannelName.Overlaps(b, a));
    }

    [Theory]
    [InlineData("/a/b/c")]
    [InlineData("/x")]
    [InlineData("/p/q/r/s/t")]
    public void MatchingKeys_AgreeWithMatches(string channel)
    {
        foreach (var key in ChannelName.MatchingKeys(channel))
        {
            Assert.True(ChannelName.Matches(key, channel), key);
        }
    }
}
