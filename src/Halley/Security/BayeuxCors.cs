using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// CORS for <c>cross-origin-long-polling</c>, through ASP.NET Core's <see cref="ICorsService"/>, applied by the
/// endpoint itself so hosts need no extra middleware. Credentials are allowed: the browser cookie must travel.
/// </summary>
internal sealed class BayeuxCors
{
    private readonly ICorsService _cors;
    private readonly CorsPolicy? _policy;

    public BayeuxCors(ICorsService cors, IOptions<HalleyOptions> options)
    {
        _cors = cors;
        var origins = options.Value.Cors.AllowedOrigins;
        if (origins.Count == 0)
        {
            return;
        }
        var builder = new CorsPolicyBuilder().AllowCredentials().AllowAnyHeader().WithMethods("GET", "POST");
        // "*" cannot be combined with credentials in CORS, so any origin is allowed by echoing it back.
        _policy = origins.Contains("*")
            ? builder.SetIsOriginAllowed(static _ => true).Build()
            : builder.WithOrigins([.. origins]).Build();
    }

    /// <summary>Applies CORS headers; returns true when the request was a preflight and has been answered.</summary>
    public bool Apply(HttpContext context)
    {
        var request = context.Request;
        var isPreflight = HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method");
        if (_policy is not null && request.Headers.ContainsKey("Origin"))
        {
            var result = _cors.EvaluatePolicy(context, _policy);
            _cors.ApplyResult(result, context.Response);
        }
        if (isPreflight)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        return isPreflight;
    }
}
