using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Halley.Http;

/// <summary>
/// Serves the JavaScript client (<c>clients/js</c>, embedded in this assembly) at <c>/halley.js</c> and its modules
/// under <c>/halley/…</c>, the layout of the npm package, so <c>import { HalleyClient } from '/halley.js'</c> works in a
/// page of any host that calls <c>MapHalley()</c>. The files are read once; each answer carries a strong ETag and
/// <c>Cache-Control: no-cache</c>, so a browser revalidates (a 304 costs a few bytes) and never runs a client
/// older than the server it talks to: the module URLs carry no version to make long caching safe.
/// </summary>
internal sealed class ClientScriptEndpoint
{
    /// <summary>The prefix of the client's embedded resources; what follows it is the file's path on the server.</summary>
    internal const string ResourcePrefix = "Halley.Client.Js/";

    /// <summary>The route of the client's modules besides <c>/halley.js</c>.</summary>
    internal const string PathRouteValue = "modulePath";

    private const string ContentType = "text/javascript; charset=utf-8";

    private readonly FrozenDictionary<string, Script> _scripts;

    public ClientScriptEndpoint()
    {
        var assembly = typeof(ClientScriptEndpoint).Assembly;
        _scripts = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[ResourcePrefix.Length..].Replace('\\', '/'), name => Script.Load(assembly, name), StringComparer.Ordinal);
    }

    /// <summary>The served paths (<c>halley.js</c>, <c>halley/client.js</c>, …), for tests.</summary>
    internal IEnumerable<string> Paths => _scripts.Keys;

    /// <summary><c>GET</c>/<c>HEAD /halley.js</c>.</summary>
    public Task HandleEntryAsync(HttpContext context) => ServeAsync(context, "halley.js");

    /// <summary><c>GET</c>/<c>HEAD /halley/{**modulePath}</c>.</summary>
    public Task HandleModuleAsync(HttpContext context) =>
        ServeAsync(context, "halley/" + (context.GetRouteValue(PathRouteValue) as string ?? ""));

    private async Task ServeAsync(HttpContext context, string path)
    {
        if (!_scripts.TryGetValue(path, out var script))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status404NotFound, "No such client module.").ConfigureAwait(false);
            return;
        }
        var response = context.Response;
        var headers = response.Headers;
        headers.ETag = script.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        // A public script with no secret in it: a page of another origin may import it as a module (which needs CORS).
        headers.AccessControlAllowOrigin = "*";
        var ifNoneMatch = context.Request.GetTypedHeaders().IfNoneMatch;
        if (ifNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(script.Tag, useStrongComparison: false)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = ContentType;
        response.ContentLength = script.Bytes.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        await response.Body.WriteAsync(script.Bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private sealed record Script(byte[] Bytes, EntityTagHeaderValue Tag)
    {
        public string ETag { get; } = Tag.ToString();

        public static Script Load(Assembly assembly, string name)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
            return new Script(bytes, new EntityTagHeaderValue($"\"{hash}\""));
        }
    }
}
