using System.Net;
using System.Reflection;
using System.Text;
using Halley.Engine;
using Halley.Protocol;

namespace Halley.Server.StartPage;

/// <summary>
/// <c>/</c> in <c>halley serve</c>: what is running (version, engine, transports), the endpoints, and a live message
/// counter that uses the JavaScript client from <c>/halley.js</c>. Only the executable maps it: a host that calls
/// <c>MapHalley()</c> keeps its own <c>/</c>.
/// </summary>
internal sealed class StartPageEndpoint
{
    private readonly string _template;
    private readonly string _version;
    private readonly string _engine;

    /// <param name="engine">The node's engine, named on the page.</param>
    /// <param name="samples">Whether <c>halley serve</c> has its samples: without them the page does not link to them.</param>
    public StartPageEndpoint(IMessageEngine engine, bool samples)
    {
        using var stream = typeof(StartPageEndpoint).Assembly.GetManifestResourceStream("Halley.Server.StartPage.start-page.html")
            ?? throw new InvalidOperationException("The start page is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        _template = samples ? reader.ReadToEnd() : WithoutSamples(reader.ReadToEnd());
        _version = typeof(HalleyOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        _engine = engine is InMemoryMessageEngine ? "in-memory" : engine.GetType().Name;
    }

    /// <summary>The template without its samples section (from <c>&lt;!--samples--&gt;</c> to <c>&lt;!--/samples--&gt;</c>).</summary>
    private static string WithoutSamples(string template)
    {
        const string Start = "<!--samples-->", End = "<!--/samples-->";
        var start = template.IndexOf(Start, StringComparison.Ordinal);
        var end = template.IndexOf(End, StringComparison.Ordinal);
        return start < 0 || end < start ? template : template[..start] + template[(end + End.Length)..];
    }

    public async Task HandleAsync(HttpContext context)
    {
        var origin = $"{context.Request.Scheme}://{context.Request.Host}";
        var html = _template
            .Replace("{{version}}", WebUtility.HtmlEncode(_version), StringComparison.Ordinal)
            .Replace("{{engine}}", WebUtility.HtmlEncode(_engine), StringComparison.Ordinal)
            .Replace("{{transports}}", WebUtility.HtmlEncode(string.Join(", ", ConnectionTypes.Supported)), StringComparison.Ordinal)
            .Replace("{{origin}}", WebUtility.HtmlEncode(origin), StringComparison.Ordinal);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await context.Response.WriteAsync(html, context.RequestAborted).ConfigureAwait(false);
    }
}
