using Halley.Transports.WebSockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Halley;

/// <summary>Kestrel listener set-up for Halley.</summary>
public static class HalleyKestrelExtensions
{
    /// <summary>
    /// Lets this listener accept WebSocket upgrades of the Bayeux endpoint at the connection level, before the
    /// HTTP layer (see <see cref="WebSocketSettings.AcceptAtConnectionLevel"/>). Other requests, and every
    /// request on a TLS listener whose TLS is set up after this call, go through HTTP as usual.
    /// </summary>
    /// <param name="listenOptions">The listener.</param>
    /// <param name="path">The Bayeux endpoint path given to <c>MapHalley</c>.</param>
    public static ListenOptions UseHalleyWebSockets(this ListenOptions listenOptions, string path = "/cometd")
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var trimmed = path.TrimEnd('/');
        var services = listenOptions.ApplicationServices;
        listenOptions.Use(next =>
        {
            ConnectionWebSocketHandler? handler = null;
            return connection => (handler ??= services.GetRequiredService<ConnectionWebSocketHandler>()).HandleAsync(connection, next, trimmed);
        });
        return listenOptions;
    }
}
