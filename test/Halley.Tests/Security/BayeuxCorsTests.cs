using Halley.Security;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Security;

public class BayeuxCorsTests
{
    private static BayeuxCors Cors(params string[] origins)
    {
        var service = new CorsService(Options.Create(new Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions()), NullLoggerFactory.Instance);
        var options = new HalleyOptions();
        options.Cors.AllowedOrigins.AddRange(origins);
        return new BayeuxCors(service, Options.Create(options));
    }

    private static DefaultHttpContext Request(string method, string? origin, bool preflight = false)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }
        if (preflight)
        {
            context.Request.Headers.AccessControlRequestMethod = "POST";
        }
        return context;
    }

    [Fact]
    public void AllowedOrigin_IsEchoedWithCredentials()
    {
        var context = Request("POST", "https://app.example.com");

        Assert.False(Cors("https://app.example.com").Apply(context));

        Assert.Equal("https://app.example.com", context.Response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Equal("true", context.Response.Headers.AccessControlAllowCredentials.ToString());
    }

    [Fact]
    public void OtherOrigin_GetsNoCorsHeaders()
    {
        var context = Request("POST", "https://evil.example.com");

        Cors("https://app.example.com").Apply(context);

        Assert.False(context.Response.Headers.ContainsKey("Access-Control-Allow-Origin"));
    }

    [Fact]
    public void Star_AllowsAnyOrigin_ByEchoingIt()
    {
        var context = Request("POST", "https://any.example.org");

        Cors("*").Apply(context);

        Assert.Equal("https://any.example.org", context.Response.Headers.AccessControlAllowOrigin.ToString());
    }

    [Fact]
    public void NoOriginsConfigured_AddsNothing()
    {
        var context = Request("POST", "https://app.example.com");

        Assert.False(Cors().Apply(context));

        Assert.False(context.Response.Headers.ContainsKey("Access-Control-Allow-Origin"));
    }

    [Fact]
    public void Preflight_IsAnswered204()
    {
        var context = Request("OPTIONS", "https://app.example.com", preflight: true);

        Assert.True(Cors("https://app.example.com").Apply(context));

        Assert.Equal(204, context.Response.StatusCode);
        Assert.Equal("https://app.example.com", context.Response.Headers.AccessControlAllowOrigin.ToString());
    }

    [Fact]
    public void OptionsWithoutRequestMethod_IsNotPreflight()
    {
        Assert.False(Cors("https://app.example.com").Apply(Request("OPTIONS", "https://app.example.com")));
    }
}
