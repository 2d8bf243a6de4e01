using Halley.Security;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Security;

public class OriginPolicyTests
{
    private static OriginPolicy Policy(params string[] allowed) =>
        new(Options.Create(new HalleyOptions { Cors = { AllowedOrigins = [.. allowed] } }));

    [Fact]
    public void NoOrigin_IsAllowed_WhateverTheList()
    {
        // A non-browser client (the .NET client, Node clients, curl) sends no Origin: not an origin problem.
        Assert.True(Policy().Allows(null, isHttps: false, "halley.example"));
        Assert.True(Policy("https://app.example").Allows(null, isHttps: true, host: null));
    }

    [Theory]
    [InlineData("http://halley.example:8080", false, "halley.example:8080")]
    [InlineData("http://HALLEY.example:8080", false, "halley.example:8080")]
    [InlineData("http://halley.example", false, "halley.example")]
    [InlineData("http://halley.example", false, "halley.example:80")]
    [InlineData("https://halley.example", true, "halley.example")]
    [InlineData("https://halley.example:443", true, "halley.example")]
    [InlineData("http://127.0.0.1:5000", false, "127.0.0.1:5000")]
    [InlineData("http://[::1]:5000", false, "[::1]:5000")]
    // TLS ended at a proxy in front: the https page of the same host is the server's own.
    [InlineData("https://halley.example", false, "halley.example")]
    public void OwnOrigin_IsAllowed_WithAnEmptyList(string origin, bool isHttps, string host)
    {
        Assert.True(Policy().Allows(origin, isHttps, host));
    }

    [Theory]
    [InlineData("http://evil.example", false, "halley.example")]
    [InlineData("http://halley.example.evil.example", false, "halley.example")]
    [InlineData("http://halley.example:8081", false, "halley.example:8080")]
    [InlineData("http://halley.example", false, "halley.example:8080")]
    [InlineData("https://halley.example", false, "halley.example:80")]
    // A plain-HTTP page reaching the server over TLS is another origin.
    [InlineData("http://halley.example", true, "halley.example")]
    [InlineData("null", false, "halley.example")]
    [InlineData("http://halley.example, http://evil.example", false, "halley.example")]
    [InlineData("http://halley.example/path", false, "halley.example")]
    [InlineData("ftp://halley.example", false, "halley.example")]
    [InlineData("not an origin", false, "halley.example")]
    [InlineData("http://halley.example", false, null)]
    public void OtherOrigins_AreRefused_WithAnEmptyList(string origin, bool isHttps, string? host)
    {
        Assert.False(Policy().Allows(origin, isHttps, host));
    }

    [Theory]
    [InlineData("https://app.example")]
    [InlineData("https://APP.example")]
    [InlineData("https://app.example:443")]
    public void ListedOrigin_IsAllowed_WhateverTheHost(string origin)
    {
        // Behind a proxy that rewrites Host, the public origin is known only from the list.
        Assert.True(Policy("https://app.example", "http://localhost:3000").Allows(origin, isHttps: false, "upstream:8080"));
    }

    [Theory]
    [InlineData("http://app.example")]
    [InlineData("https://app.example:8443")]
    [InlineData("https://sub.app.example")]
    public void UnlistedOrigin_IsRefused(string origin)
    {
        Assert.False(Policy("https://app.example").Allows(origin, isHttps: false, "upstream:8080"));
    }

    [Fact]
    public void Star_AllowsAnyOrigin()
    {
        Assert.True(Policy("*").Allows("http://evil.example", isHttps: false, "halley.example"));
        Assert.True(Policy("*").Allows("null", isHttps: false, "halley.example"));
    }

    [Theory]
    [InlineData("*", true)]
    [InlineData("https://app.example", true)]
    [InlineData("https://app.example/", true)]
    [InlineData("http://localhost:3000", true)]
    [InlineData("app.example", false)]
    [InlineData("https://app.example/path", false)]
    [InlineData("https://*.example", false)]
    [InlineData("", false)]
    public void ListEntries_AreValidated(string entry, bool valid)
    {
        Assert.Equal(valid, OriginPolicy.IsValidListEntry(entry));
    }
}
