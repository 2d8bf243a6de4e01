using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>A raw long-polling client: real HTTP, a cookie jar like a browser's, JSON arrays in and out.</summary>
public sealed class BayeuxHttp : IDisposable
{
    private readonly HttpClient _http;
    private int _nextId;

    /// <param name="server">The server.</param>
    /// <param name="cookies">The cookie jar (a new one if null).</param>
    /// <param name="from">The loopback address the client's connections leave from (the default one if null).</param>
    public BayeuxHttp(TestServer server, CookieContainer? cookies = null, IPAddress? from = null)
    {
        Cookies = cookies ?? new CookieContainer();
        HttpMessageHandler handler = from is null
            ? new HttpClientHandler { CookieContainer = Cookies, UseCookies = true }
            : FromAddress.Handler(from, Cookies);
        _http = new HttpClient(handler)
        {
            BaseAddress = server.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        Endpoint = server.Bayeux;
    }

    public CookieContainer Cookies { get; }

    public Uri Endpoint { get; }

    public HttpClient Http => _http;

    public string? ClientId { get; private set; }

    public string NextId() => Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task<HttpResponseMessage> PostRawAsync(string body, string contentType = "application/json", string path = "/cometd")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return await _http.PostAsync(path, content).Within(TimeSpan.FromSeconds(60));
    }

    public async Task<JsonArray> SendAsync(params JsonObject[] messages)
    {
        using var response = await PostRawAsync(new JsonArray(messages).ToJsonString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    /// <summary>Handshakes; <paramref name="connectionTypes"/> is what the client says it supports (long-polling only by default).</summary>
    public async Task<JsonObject> HandshakeAsync(JsonObject? ext = null, string[]? connectionTypes = null)
    {
        var message = new JsonObject
        {
            ["channel"] = "/meta/handshake",
            ["version"] = "1.0",
            ["supportedConnectionTypes"] = new JsonArray([.. (connectionTypes ?? ["long-polling"]).Select(t => (JsonNode)t)]),
            ["id"] = NextId(),
        };
        if (ext is not null)
        {
            message["ext"] = ext;
        }
        var reply = (await SendAsync(message))[0]!.AsObject();
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        ClientId = reply["clientId"]!.GetValue<string>();
        return reply;
    }

    public JsonObject Connect(int? timeoutMs = null, JsonObject? ext = null)
    {
        var message = new JsonObject
        {
            ["channel"] = "/meta/connect",
            ["clientId"] = ClientId,
            ["connectionType"] = "long-polling",
            ["id"] = NextId(),
        };
        if (timeoutMs is { } timeout)
        {
            message["advice"] = new JsonObject { ["timeout"] = timeout };
        }
        if (ext is not null)
        {
            message["ext"] = ext;
        }
        return message;
    }

    public JsonObject Subscribe(params string[] channels) => new()
    {
        ["channel"] = "/meta/subscribe",
        ["clientId"] = ClientId,
        ["subscription"] = channels.Length == 1 ? channels[0] : new JsonArray([.. channels.Select(c => (JsonNode)c)]),
        ["id"] = NextId(),
    };

    public JsonObject Unsubscribe(string channel) => new()
    {
        ["channel"] = "/meta/unsubscribe",
        ["clientId"] = ClientId,
        ["subscription"] = channel,
        ["id"] = NextId(),
    };

    public JsonObject Publish(string channel, JsonNode? data) => new()
    {
        ["channel"] = channel,
        ["clientId"] = ClientId,
        ["data"] = data,
        ["id"] = NextId(),
    };

    public JsonObject Disconnect() => new()
    {
        ["channel"] = "/meta/disconnect",
        ["clientId"] = ClientId,
        ["id"] = NextId(),
    };

    /// <summary>Subscribes and returns once the subscription is confirmed.</summary>
    public async Task SubscribeAsync(params string[] channels)
    {
        var reply = (await SendAsync(Subscribe(channels)))[0]!;
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
    }

    public void Dispose() => _http.Dispose();
}
