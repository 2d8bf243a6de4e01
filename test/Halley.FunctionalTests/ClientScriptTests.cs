using System.Net;
using System.Net.Http.Headers;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

/// <summary>The JavaScript client (clients/js) as <c>MapHalley()</c> serves it: <c>/halley.js</c> and its modules under <c>/halley/</c>.</summary>
public sealed class ClientScriptTests
{
    /// <summary>clients/js in this checkout, found from the test assembly's folder.</summary>
    private static string ClientFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Halley.slnx")))
            {
                return Path.Combine(dir.FullName, "clients", "js");
            }
        }
        throw new InvalidOperationException("Halley.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every module of the npm package (halley.js and halley/**), as a path on the server.</summary>
    public static TheoryData<string> PackageModules()
    {
        var folder = ClientFolder();
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(folder, "halley"), "*.js", SearchOption.AllDirectories).Append(Path.Combine(folder, "halley.js")).Order(StringComparer.Ordinal))
        {
            data.Add("/" + Path.GetRelativePath(folder, file).Replace('\\', '/'));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PackageModules))]
    public async Task EveryModuleOfThePackage_IsServedAsJavaScript_ByteForByte(string path)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(ClientFolder(), path.TrimStart('/'))), await response.Content.ReadAsByteArrayAsync());
        Assert.True(response.Headers.CacheControl?.NoCache, "revalidated on every use, so a page never runs a client older than its server");
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["*"], response.Headers.GetValues("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task TheEntryModule_RevalidatesWithItsETag_AndAnswersHead()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var first = await http.GetAsync("/halley.js").Within();
        var etag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, "/halley.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(again).Within();
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/halley.js");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"older\""));
        using var changed = await http.SendAsync(stale).Within();
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/halley.js")).Within();
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(first.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/halley/nothing-here.js")]
    [InlineData("/halley/")]
    [InlineData("/halley/../appsettings.json")]
    [InlineData("/halley/%2e%2e/appsettings.json")]
    public async Task AnythingElseUnderTheClientPath_IsNotFound(string path)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(path).Within();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Post_IsNotAllowed()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("/halley.js", new StringContent("x")).Within();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
