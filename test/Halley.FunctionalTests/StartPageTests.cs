using System.Net;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

/// <summary><c>/</c> of <c>halley serve</c>: the start page (its live part runs in the browser suite).</summary>
public sealed class StartPageTests
{
    [Fact]
    public async Task Root_IsTheStartPage_SayingWhatRuns_AndUsingTheServedClient()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/").Within();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<td id=\"engine\">in-memory</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td id=\"transports\">websocket, eventsource, long-polling, cross-origin-long-polling, callback-polling</td>", html, StringComparison.Ordinal);
        Assert.Matches("<td id=\"version\">[0-9]+\\.[0-9]+", html);
        Assert.Contains("import { HalleyClient } from '/halley.js';", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
        Assert.Contains($"curl -X POST {server.BaseAddress.ToString().TrimEnd('/')}/api/publish", html, StringComparison.Ordinal);
    }
}
