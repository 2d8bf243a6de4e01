using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>Publishes through the backend API, as an application server would.</summary>
public static class ApiClient
{
    /// <summary>Publishes and returns the message's position (null when the channel keeps no history).</summary>
    public static async Task<string?> PublishAsync(this TestServer server, string channel, JsonNode? data)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsJsonAsync("/api/publish", new JsonObject { ["channel"] = channel, ["data"] = data }).Within();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["position"]?.GetValue<string>();
    }

    /// <summary>Ends a session from the backend, as a logout or ban would.</summary>
    public static async Task<HttpResponseMessage> DisconnectAsync(this TestServer server, string clientId)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        return await http.PostAsJsonAsync("/api/disconnect", new JsonObject { ["clientId"] = clientId }).Within();
    }

    /// <summary>GETs an API path and returns the status and body.</summary>
    public static async Task<(System.Net.HttpStatusCode Status, string Body)> GetAsync(this TestServer server, string pathAndQuery)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync(pathAndQuery).Within();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
