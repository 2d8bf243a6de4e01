using System.Net;
using Halley.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Security;

public class ApiKeyAuthorizationTests
{
    private static ApiKeyAuthorization Auth(string? key) =>
        new(Options.Create(new HalleyOptions { Api = { Key = key } }));

    private static DefaultHttpContext Request(IPAddress? remote, string? authorization = null, string? forwarded = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = remote;
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }
        if (forwarded is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwarded;
        }
        return context;
    }

    [Fact]
    public void NoKey_Loopback_IsAllowed()
    {
        Assert.Equal(0, Auth(null).Check(Request(IPAddress.Loopback)));
        Assert.Equal(0, Auth("").Check(Request(IPAddress.IPv6Loopback)));
    }

    [Fact]
    public void NoKey_Remote_IsForbidden()
    {
        Assert.Equal(403, Auth(null).Check(Request(IPAddress.Parse("10.0.0.1"))));
        Assert.Equal(403, Auth(null).Check(Request(null)));
    }

    [Fact]
    public void NoKey_LoopbackThroughProxy_IsForbidden()
    {
        Assert.Equal(403, Auth(null).Check(Request(IPAddress.Loopback, forwarded: "203.0.113.9")));
    }

    [Theory]
    [InlineData("Bearer s3cret")]
    [InlineData("bearer s3cret")]
    [InlineData("Bearer  s3cret ")]
    public void Key_CorrectBearer_IsAllowed(string header)
    {
        Assert.Equal(0, Auth("s3cret").Check(Request(IPAddress.Parse("10.0.0.1"), header)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong")]
    [InlineData("Bearer s3cre")]
    [InlineData("Basic s3cret")]
    [InlineData("s3cret")]
    public void Key_MissingOrWrong_Is401WithChallenge(string? header)
    {
        var context = Request(IPAddress.Loopback, header);

        Assert.Equal(401, Auth("s3cret").Check(context));
        Assert.Equal("Bearer", context.Response.Headers.WWWAuthenticate.ToString());
    }
}
