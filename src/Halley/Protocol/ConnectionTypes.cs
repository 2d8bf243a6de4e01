namespace Halley.Protocol;

/// <summary>Bayeux connection type names, as sent in <c>supportedConnectionTypes</c> and <c>connectionType</c>.</summary>
public static class ConnectionTypes
{
    /// <summary>Bayeux over WebSocket frames.</summary>
    public const string WebSocket = "websocket";

    /// <summary>
    /// Faye's <c>eventsource</c>: events arrive on a Server-Sent Events stream (<c>GET /cometd/{clientId}</c>)
    /// while the client sends its messages, <c>/meta/connect</c> included, as long-polling requests that are
    /// answered at once.
    /// </summary>
    public const string EventSource = "eventsource";

    /// <summary>HTTP POST long-polling.</summary>
    public const string LongPolling = "long-polling";

    /// <summary>Long-polling from another origin, with CORS.</summary>
    public const string CrossOriginLongPolling = "cross-origin-long-polling";

    /// <summary>JSONP: GET with <c>message=</c> and <c>jsonp=</c>.</summary>
    public const string CallbackPolling = "callback-polling";

    /// <summary>Every connection type this server accepts, in order of preference.</summary>
    public static readonly IReadOnlyList<string> Supported =
        [WebSocket, EventSource, LongPolling, CrossOriginLongPolling, CallbackPolling];

    /// <summary>Whether <paramref name="type"/> is a connection type this server accepts.</summary>
    public static bool IsSupported(string type) => Supported.Contains(type, StringComparer.Ordinal);
}
