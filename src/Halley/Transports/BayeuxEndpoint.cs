using Halley.Security;
using Microsoft.AspNetCore.Http;

namespace Halley.Transports;

/// <summary>
/// Routes a request on <c>/cometd</c> to its transport by what it is: a WebSocket upgrade, a POST, a Faye
/// <c>eventsource</c> stream (<c>GET /cometd/{clientId}</c> accepting <c>text/event-stream</c>), or a JSONP GET.
/// </summary>
internal sealed class BayeuxEndpoint(WebSocketTransport webSocket, LongPollingTransport longPolling, CallbackPollingTransport callbackPolling, EventSourceTransport eventSource, BayeuxCors cors)
{
    /// <summary>The route value holding the path after the endpoint (<c>/cometd/{**rest}</c>): a Faye eventsource stream's client id.</summary>
    public const string PathRouteValue = "rest";

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
        // Before the JSONP GET: CometD's callback-polling never asks for an event stream (a script tag accepts */*).
        if (EventSourceTransport.IsEventStreamRequest(context.Request))
        {
            return eventSource.HandleAsync(context, context.Request.RouteValues[PathRouteValue] as string);
        }
        if (HttpMethods.IsGet(method))
        {
            return callbackPolling.HandleAsync(context);
        }
        context.Response.Headers.Allow = "GET, POST, OPTIONS";
        return PollingExchange.WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed, "Use POST (long-polling), GET with message= and jsonp= (callback-polling), GET /cometd/{clientId} accepting text/event-stream (eventsource), or a WebSocket upgrade.");
    }
}
