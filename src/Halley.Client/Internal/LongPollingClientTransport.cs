using System.Net;
using System.Net.Http.Headers;

namespace Halley.Client.Internal;

/// <summary>
/// Bayeux <c>long-polling</c>: each batch is a POST of a JSON array, and its response holds the replies
/// followed by any queued events. The held <c>/meta/connect</c> is just a POST the server answers late.
/// </summary>
internal sealed class LongPollingClientTransport : IClientTransport
{
    private static readonly MediaTypeHeaderValue JsonContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    private readonly Uri _endpoint;
    private readonly ITransportSink _sink;
    private readonly HttpClient _http;

    public LongPollingClientTransport(BayeuxClientOptions options, ITransportSink sink)
    {
        _endpoint = ToHttpUri(options.Endpoint);
        _sink = sink;

        // The server binds an HTTP session to its BAYEUX_BROWSER cookie, so our own handler keeps cookies.
        // A caller's handler is theirs to configure (and to dispose).
        var handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            UseCookies = true,
            CookieContainer = new CookieContainer(),
        };
        _http = new HttpClient(handler, disposeHandler: options.HttpHandler is null)
        {
            // Held connects last as long as the server's advice says; each request carries its own
            // deadline through its cancellation token instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string ConnectionType => "long-polling";

    public bool RepliesInResponse => true;

    public ValueTask<bool> OpenAsync(CancellationToken cancellationToken) => ValueTask.FromResult(false);

    public async Task SendAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(MessageCodec.Encode(messages));
        content.Headers.ContentType = JsonContentType;
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };

        byte[] body;
        HttpStatusCode status;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new TransportException($"POST {_endpoint} failed: {ex.Message}", ex);
        }

        if (body.Length == 0)
        {
            throw status == HttpStatusCode.InternalServerError
                ? new TransportException("The server ended this connect because a newer one of the same session arrived.", superseded: true)
                : new TransportException($"POST {_endpoint} returned HTTP {(int)status} with an empty body.");
        }

        IReadOnlyList<InboundMessage> replies;
        try
        {
            replies = MessageCodec.Parse(body);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new TransportException($"POST {_endpoint} returned HTTP {(int)status} with a body that is not a Bayeux message array.", ex);
        }

        // A 4xx with a Bayeux array (e.g. 400::bad_message) still carries replies the caller wants to see.
        await _sink.OnMessagesAsync(replies, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask ResetAsync() => ValueTask.CompletedTask; // no connection state beyond the cookies, which must survive

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static Uri ToHttpUri(Uri endpoint) => endpoint.Scheme switch
    {
        "ws" => new UriBuilder(endpoint) { Scheme = Uri.UriSchemeHttp }.Uri,
        "wss" => new UriBuilder(endpoint) { Scheme = Uri.UriSchemeHttps }.Uri,
        _ => endpoint,
    };
}
