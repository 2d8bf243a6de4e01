using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>Publishes through the backend API, as an application server would.</summary>
public static class ApiClient
{
    public static async Task PublishAsync(this TestServer server, string channel, JsonNode? data)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsJsonAsync("/api/publish", new JsonObject { ["channel"] = channel, ["data"] = data }).Within();
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
