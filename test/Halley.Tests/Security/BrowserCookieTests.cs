using Halley.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Security;

public class BrowserCookieTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";

    private static BrowserCookie Cookie(SameSiteMode sameSite = SameSiteMode.Lax) =>
        new(Options.Create(new HalleyOptions { SessionBinding = { BrowserCookieSameSite = sameSite } }));

    private static DefaultHttpContext WithCookie(string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers.Cookie = header;
        }
        return context;
    }

    [Fact]
    public void Read_WellFormedCookie_IsReturned()
    {
        Assert.Equal(Id, Cookie().Read(WithCookie($"BAYEUX_BROWSER={Id}").Request));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("OTHER=0123456789abcdef0123456789abcdef")]
    [InlineData("BAYEUX_BROWSER=0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("BAYEUX_BROWSER=0123456789abcdef")]
    [InlineData("BAYEUX_BROWSER=0123456789abcdef0123456789abcdeg")]
    [InlineData("BAYEUX_BROWSER=0123456789abcdef0123456789abcdef0")]
    public void Read_MissingOrMalformedCookie_IsNull(string? header)
    {
        Assert.Null(Cookie().Read(WithCookie(header).Request));
    }

    [Fact]
    public void ReadOrIssue_ExistingCookie_IsKept_AndNothingIsSet()
    {
        var context = WithCookie($"BAYEUX_BROWSER={Id}");

        Assert.Equal(Id, Cookie().ReadOrIssue(context));
        Assert.False(context.Response.Headers.ContainsKey("Set-Cookie"));
    }

    [Fact]
    public void ReadOrIssue_NoCookie_IssuesHttpOnlyCookie()
    {
        var context = WithCookie(null);

        var id = Cookie().ReadOrIssue(context);

        Assert.Matches("^[0-9a-f]{32}$", id);
        var setCookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith($"BAYEUX_BROWSER={id}", setCookie, StringComparison.Ordinal);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ReadOrIssue_SameSiteNone_IsSecure()
    {
        var context = WithCookie(null);

        Cookie(SameSiteMode.None).ReadOrIssue(context);

        var setCookie = context.Response.Headers.SetCookie.ToString();
        Assert.Contains("samesite=none", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ReadOrIssue_TwoRequests_GetDistinctIds()
    {
        Assert.NotEqual(Cookie().ReadOrIssue(WithCookie(null)), Cookie().ReadOrIssue(WithCookie(null)));
    }
}
