using System.Net.WebSockets;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.WebSockets;

/// <summary>
/// <c>websocket</c>: each text frame is a Bayeux array; replies and events go back as arrays, several events
/// per frame when they were queued together. Without the ack extension, events are pushed as they arrive,
/// independently of the held <c>/meta/connect</c>. At the end of its lifetime
/// (<see cref="HalleyOptions.MaxConnectionLifetime"/>) a socket answers its held connects with advice to reconnect
/// at once, sends what it has, and closes normally; its sessions live on for the client's next connection.
/// </summary>
internal sealed class WebSocketTransport(BayeuxProcessor processor, BrowserCookie browserCookie, Security.Limits.ClientLimits limits, HalleyMetrics metrics, LiveConnections liveConnections, IOptions<HalleyOptions> options, ILogger<WebSocketTransport> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var browserId = browserCookie.Read(context.Request);
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        await RunAsync(socket, browserId, Security.Auth.HalleyIdentity.IsAuthenticated(context.User) ? context.User : null, context.Connection.RemoteIpAddress, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves Bayeux on an accepted <paramref name="socket"/> until it closes; used by both ways of accepting.
    /// The shared sweep ends it at the end of its lifetime. With <paramref name="frames"/> (the connection-level path,
    /// which owns the pipe) the connection writes its text frames straight to the transport, and the sweep pings it
    /// after each heartbeat interval without a send (the framework's WebSocket has no ping API). <paramref name="user"/>
    /// is who opened the socket (its connection token or the host's authentication), null when anonymous.
    /// </summary>
    public async Task RunAsync(WebSocket socket, string? browserId, System.Security.Claims.ClaimsPrincipal? user, System.Net.IPAddress? remoteAddress, CancellationToken aborted, IWebSocketFrameSink? frames = null)
    {
        metrics.ConnectionOpened(ConnectionTypes.WebSocket);
        try
        {
            var live = new WebSocketLiveness(liveConnections, frames is null ? null : frames.TrySendPingAsync);
            var connection = new WebSocketConnection(socket, frames, new WebSocketPeer(browserId, remoteAddress, limits), user, processor, options.Value, logger, live);
            await connection.RunAsync(aborted).ConfigureAwait(false);
        }
        finally
        {
            metrics.ConnectionClosed(ConnectionTypes.WebSocket);
        }
    }
}
