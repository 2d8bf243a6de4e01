using Halley.Api;
using Halley.Http;
using Halley.Transports;
using Halley.Transports.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Halley;

/// <summary>Maps Halley's endpoints.</summary>
public static class HalleyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Bayeux endpoint on <paramref name="pattern"/>, <c>pattern/</c> and <c>pattern/*</c> (the CometD
    /// client appends <c>/handshake</c>, <c>/connect</c>…; Faye's <c>eventsource</c> opens <c>pattern/{clientId}</c>), the
    /// streaming endpoints <c>/sse</c> and <c>/stream</c>, and the backend API under <c>/api</c> (publish, history,
    /// disconnect), and the JavaScript client at <c>/halley.js</c> with its modules under <c>/halley/</c>. On a
    /// <see cref="WebApplication"/> it also adds the WebSocket middleware the <c>websocket</c> transport needs.
    /// The returned builder takes conventions for all of them: <c>RequireAuthorization()</c> puts the host's
    /// authorization in front of every one, and its authenticated <c>HttpContext.User</c> becomes a session's identity.
    /// </summary>
    public static IEndpointConventionBuilder MapHalley(this IEndpointRouteBuilder endpoints, string pattern = "/cometd")
    {
        if (endpoints is IApplicationBuilder app)
        {
            // No keep-alive timer per socket: the held /meta/connect cycle already sends a frame every
            // Halley:Timeout, and timers belong to the one shared sweep.
            app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        }
        var bayeux = endpoints.ServiceProvider.GetRequiredService<BayeuxEndpoint>();
        var limits = endpoints.ServiceProvider.GetRequiredService<Security.Limits.ClientLimits>();
        // WebSocket upgrades through HTTP and the streams hold a connection of their address and of the node while they
        // run (Halley:Limits:MaxConnectionsPerAddress, MaxConnectionsPerNode); polls are bounded by sessions instead.
        var bayeuxHandler = limits.LimitConnections(bayeux.HandleAsync, static c => c.WebSockets.IsWebSocketRequest || EventSourceTransport.IsEventStreamRequest(c.Request));
        var publish = endpoints.ServiceProvider.GetRequiredService<PublishApi>();
        var group = endpoints.MapGroup("");
        var trimmed = pattern.TrimEnd('/');
        group.Map(trimmed, bayeuxHandler).WithMetadata(Security.Auth.BayeuxEndpointMetadata.Instance);
        group.Map(trimmed + "/{**" + BayeuxEndpoint.PathRouteValue + "}", bayeuxHandler).WithMetadata(Security.Auth.BayeuxEndpointMetadata.Instance);
        group.Map("/sse", limits.LimitConnections(endpoints.ServiceProvider.GetRequiredService<ServerSentEventsTransport>().HandleAsync, IsStreamRequest));
        group.Map("/stream", limits.LimitConnections(endpoints.ServiceProvider.GetRequiredService<HttpStreamingTransport>().HandleAsync, IsStreamRequest));
        group.MapPost("/api/publish", publish.HandleAsync);
        group.MapGet("/api/history", endpoints.ServiceProvider.GetRequiredService<HistoryApi>().HandleAsync);
        group.MapPost("/api/disconnect", endpoints.ServiceProvider.GetRequiredService<DisconnectApi>().HandleAsync);
        var presence = endpoints.ServiceProvider.GetRequiredService<PresenceApi>();
        group.MapGet("/api/presence", presence.MembersAsync);
        group.MapGet("/api/channels", presence.ChannelsAsync);
        var client = endpoints.ServiceProvider.GetRequiredService<ClientScriptEndpoint>();
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        group.MapMethods("/halley.js", getOrHead, client.HandleEntryAsync);
        group.MapMethods("/halley/{**" + ClientScriptEndpoint.PathRouteValue + "}", getOrHead, client.HandleModuleAsync);
        return group;
    }

    // A HEAD or a preflight opens no stream.
    private static bool IsStreamRequest(HttpContext context) => HttpMethods.IsGet(context.Request.Method);
}
