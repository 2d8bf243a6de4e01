using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Auth;

/// <summary>Backend API keys with scopes (Halley:Api:Keys) beside the single all-scopes Halley:Api:Key.</summary>
public sealed class ApiKeyScopeTests
{
    [Fact]
    public async Task EachKey_UsesOnlyItsScopes_AndTheSingleKeyUsesAll()
    {
        await using var server = await TestServer.StartAsync(
            "Halley:Api:Key=admin-key",
            "Halley:Api:Keys:0:Key=publisher-key", "Halley:Api:Keys:0:Scopes:0=publish",
            "Halley:Api:Keys:1:Key=auditor-key", "Halley:Api:Keys:1:Scopes:0=history");
        var denials = new ConcurrentQueue<(string Operation, string Reason)>();
        using var _ = AuthTokens.CountDenials(server, denials);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        async Task<HttpStatusCode> CallAsync(string key, bool publish)
        {
            using var request = publish
                ? new HttpRequestMessage(HttpMethod.Post, "/api/publish") { Content = JsonContent.Create(new JsonObject { ["channel"] = "/news", ["data"] = 1 }) }
                : new HttpRequestMessage(HttpMethod.Get, "/api/history?channel=/news");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request).Within();
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync("publisher-key", publish: true));
        Assert.Equal(HttpStatusCode.Forbidden, await CallAsync("publisher-key", publish: false));
        Assert.Equal(HttpStatusCode.OK, await CallAsync("auditor-key", publish: false));
        Assert.Equal(HttpStatusCode.Forbidden, await CallAsync("auditor-key", publish: true));
        Assert.Equal(HttpStatusCode.OK, await CallAsync("admin-key", publish: true));
        Assert.Equal(HttpStatusCode.OK, await CallAsync("admin-key", publish: false));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync("wrong-key", publish: true));
        Assert.Equal([("api", "missing_scope"), ("api", "missing_scope"), ("api", "invalid_key")], denials.ToArray());
    }

    [Fact]
    public async Task UnknownScope_StopsTheServerAtStartUp()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("Halley:Api:Keys:0:Key=k", "Halley:Api:Keys:0:Scopes:0=everything"));
        Assert.Contains("Halley:Api:Keys:0:Scopes", error.ToString());
    }
}
