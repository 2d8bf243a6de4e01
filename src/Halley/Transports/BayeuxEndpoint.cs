using Halley.Security;
using Microsoft.AspNetCore.Http;

namespace Halley.Transports;

/// <summary>Routes a request on <c>/cometd</c> to its transport by what it is: a WebSocket upgrade, a POST, or a JSONP GET.</summary>
internal sealed class BayeuxEndpoint(WebSocketTransport webSocket, LongPollingTransport longPolling, CallbackPollingTransport callbackPolling, BayeuxCors cors)
{
    public Task HandleAsync(HttpContext context)
    {
        if (cors.Apply(context))
        {
            return Task.CompletedTask;
        }
        if (context.WebSockets.IsWebSocketRequest)
        {
            return webSocket.HandleAsync(context);
        }
        var method = context.Request.Method;
        if (HttpMethods.IsPost(method))
        {
            return longPolling.HandleAsync(context);
        }
        if (HttpMethods.IsGet(method))
        {
            return callbackPolling.HandleAsync(context);
        }
        context.Response.Headers.Allow = "GET, POST, OPTIONS";
        return PollingExchange.WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed, "Use POST (long-polling), GET with message= and jsonp= (callback-polling), or a WebSocket upgrade.");
    }
}
