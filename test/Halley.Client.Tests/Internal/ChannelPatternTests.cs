using Halley.Client.Internal;

namespace Halley.Client.Tests.Internal;

public class ChannelPatternTests
{
    [Theory]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b", "/a/bc", false)]
    [InlineData("/a/b", "/a", false)]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/a/*", "/a/b/c", false)]
    [InlineData("/a/*", "/a", false)]
    [InlineData("/a/*", "/ab/c", false)]
    [InlineData("/a/**", "/a/b", true)]
    [InlineData("/a/**", "/a/b/c/d", true)]
    [InlineData("/a/**", "/a", false)]
    [InlineData("/a/**", "/ab/c", false)]
    [InlineData("/*", "/a", true)]
    [InlineData("/*", "/a/b", false)]
    [InlineData("/**", "/a/b", true)]
    public void Matches(string pattern, string channel, bool expected) =>
        Assert.Equal(expected, ChannelPattern.Parse(pattern).Matches(channel));

    [Theory]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("/a/")]
    [InlineData("/a//b")]
    [InlineData("/a/*/b")]
    [InlineData("/a/b*")]
    [InlineData("/a/***")]
    public void RejectsMalformed(string pattern) =>
        Assert.Throws<ArgumentException>(() => ChannelPattern.Parse(pattern));

    [Theory]
    [InlineData("/a/b", false, true)]
    [InlineData("/a/*", false, false)]
    [InlineData("/a/**", true, true)]
    public void WellFormedness(string channel, bool allowWildcard, bool expected) =>
        Assert.Equal(expected, ChannelPattern.IsWellFormed(channel, allowWildcard));
}
