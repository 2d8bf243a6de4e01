using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Halley.LoadTest.Protocols;

/// <summary>What a server's backend HTTP publish endpoint expects.</summary>
public enum HttpPublishStyle
{
    /// <summary>Halley's backend API: <c>POST /api/publish</c> <c>{"channel":…,"data":…}</c>, answered <c>{"channel":…,"position":…}</c>.</summary>
    HalleyApi,

    /// <summary>
    /// A Bayeux publish message POSTed to the Bayeux endpoint without a session: <c>[{"channel":…,"data":…}]</c>,
    /// answered <c>[{"channel":…,"successful":true}]</c>. Faye documents this for publishing from any HTTP client.
    /// </summary>
    Bayeux,

    /// <summary>The peers' endpoint (SignalR, the plain loop, Pushpin's backend): <c>POST /publish?channel=…</c> with the payload as the body.</summary>
    ChannelQuery,
}

/// <summary>
/// One backend publisher over HTTP: one keep-alive connection of its own (<c>MaxConnectionsPerServer = 1</c>), one
/// POST per publish, completed when the server answered 2xx (and, where the answer says so, that the publish was
/// accepted). The load generator awaits each publish before sending the next on the same publisher, as a backend
/// that publishes in order does; concurrency comes from several publishers.
/// </summary>
public sealed class HttpPublisher : IPushPublisher
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly HttpPublishStyle _style;

    /// <param name="endpoint">
    /// The URL to POST to: <c>http://host:port/api/publish</c> (Halley), the Bayeux endpoint (Faye), or
    /// <c>http://host:port/publish</c> (the peers; the channel goes in the query).
    /// </param>
    /// <param name="style">The body and answer the endpoint expects.</param>
    public HttpPublisher(Uri endpoint, HttpPublishStyle style)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
        _style = style;
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            MaxConnectionsPerServer = 1,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>The URL this publisher POSTs to (the channel is added to the query for <see cref="HttpPublishStyle.ChannelQuery"/>).</summary>
    public Uri Endpoint => _endpoint;

    /// <summary><paramref name="target"/>'s scheme, host and port with <paramref name="path"/>.</summary>
    public static Uri AtOrigin(Uri target, string path)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new UriBuilder(target)
        {
            Scheme = target.Scheme is "https" or "wss" ? "https" : "http",
            Path = path,
            Query = "",
        }.Uri;
    }

    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var uri = _endpoint;
        ReadOnlyMemory<byte> body;
        switch (_style)
        {
            case HttpPublishStyle.ChannelQuery:
                uri = new UriBuilder(_endpoint) { Query = "channel=" + Uri.EscapeDataString(channel) }.Uri;
                body = payloadJson;
                break;
            default:
                body = Envelope(channel, payloadJson.Span, array: _style == HttpPublishStyle.Bayeux);
                break;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = Json } },
        };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"POST {uri.AbsolutePath}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {Excerpt(answer)}", null, response.StatusCode);
        }
        switch (_style)
        {
            case HttpPublishStyle.HalleyApi when answer.AsSpan().IndexOf("\"position\""u8) < 0:
                throw new InvalidOperationException($"POST {uri.AbsolutePath}: unexpected answer {Excerpt(answer)}");
            case HttpPublishStyle.Bayeux:
                CheckBayeuxReply(answer, uri);
                break;
        }
    }

    /// <summary><c>{"channel":…,"data":…}</c>, or the same in an array (a Bayeux batch of one).</summary>
    private static byte[] Envelope(string channel, ReadOnlySpan<byte> data, bool array)
    {
        var buffer = new ArrayBufferWriter<byte>(data.Length + channel.Length + 32);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            if (array)
            {
                w.WriteStartArray();
            }
            w.WriteStartObject();
            w.WriteString("channel"u8, channel);
            w.WritePropertyName("data"u8);
            w.WriteRawValue(data, skipInputValidation: true);
            w.WriteEndObject();
            if (array)
            {
                w.WriteEndArray();
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void CheckBayeuxReply(byte[] answer, Uri uri)
    {
        var reader = new BayeuxFrameReader(answer);
        while (reader.TryRead(out var message))
        {
            if (message.Kind == BayeuxChannelKind.Broadcast && message.Successful is { } ok)
            {
                if (!ok)
                {
                    throw new InvalidOperationException($"POST {uri.AbsolutePath}: " + BayeuxWire.Describe(message, "publish"));
                }
                return;
            }
        }
        throw new InvalidOperationException($"POST {uri.AbsolutePath}: no publish reply in {Excerpt(answer)}");
    }

    private static string Excerpt(byte[] body) =>
        body.Length == 0 ? "(empty)" : System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)));

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
