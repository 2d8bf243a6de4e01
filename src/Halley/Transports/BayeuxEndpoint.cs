using Halley.Http;
using Halley.Protocol;
using Halley.Security;
using Halley.Transports.Polling;
using Halley.Transports.Streams;
using Halley.Transports.WebSockets;
using Microsoft.AspNetCore.Http;

namespace Halley.Transports;

/// <summary>
/// Routes a request on <c>/cometd</c> to its transport by what it is: a WebSocket upgrade, a POST, a Faye
/// <c>eventsource</c> stream (<c>GET /cometd/{clientId}</c> accepting <c>text/event-stream</c>), or a JSONP GET.
/// </summary>
internal sealed class BayeuxEndpoint(WebSocketTransport webSocket, LongPollingTransport longPolling, CallbackPollingTransport callbackPolling, EventSourceTransport eventSource, BayeuxCors cors, ConnectionAuthorization authorization)
{
    /// <summary>The route value holding the path after the endpoint (<c>/cometd/{**rest}</c>): a Faye eventsource stream's client id.</summary>
    public const string PathRouteValue = "rest";

    public Task HandleAsync(HttpContext context)
    {
        if (cors.Apply(context))
        {
            return Task.CompletedTask;
        }
        var connectionType = ConnectionTypeOf(context);
        if (connectionType is null)
        {
            context.Response.Headers.Allow = "GET, POST, OPTIONS";
            return HttpResponses.WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed, "Use POST (long-polling), GET with message= and jsonp= (callback-polling), GET /cometd/{clientId} accepting text/event-stream (eventsource), or a WebSocket upgrade.");
        }
        return authorization.MustAsk(context.Request) ? AuthorizeThenRouteAsync(context, connectionType)
 : Route(context, connectionType);
    }

    /// <summary>The connection type a request on the endpoint opens; null when it opens none (the method is not allowed).</summary>
    private static string? ConnectionTypeOf(HttpContext context)
    {
        var request = context.Request;
        if (context.WebSockets.IsWebSocketRequest)
        {
            return ConnectionTypes.WebSocket;
        }
        if (HttpMethods.IsPost(request.Method))
        {
            return request.Headers.Origin.Count > 0 ? ConnectionTypes.CrossOriginLongPolling : ConnectionTypes.LongPolling;
        }
        // Before the JSONP GET: CometD's callback-polling never asks for an event stream (a script tag accepts */*).
        if (EventSourceTransport.IsEventStreamRequest(request))
        {
            return ConnectionTypes.EventSource;
        }
        return HttpMethods.IsGet(request.Method) ? ConnectionTypes.CallbackPolling : null;
    }

    private async Task AuthorizeThenRouteAsync(HttpContext context, string connectionType)
    {
        if (await authorization.TryAuthorizeAsync(context, connectionType).ConfigureAwait(false))
        {
            await Route(context, connectionType).ConfigureAwait(false);
        }
    }

    private Task Route(HttpContext context, string connectionType) => connectionType switch
    {
        ConnectionTypes.WebSocket => webSocket.HandleAsync(context),
        ConnectionTypes.EventSource => eventSource.HandleAsync(context, context.Request.RouteValues[PathRouteValue] as string),
        ConnectionTypes.CallbackPolling => callbackPolling.HandleAsync(context),
        _ => longPolling.HandleAsync(context, connectionType),
    };
}
