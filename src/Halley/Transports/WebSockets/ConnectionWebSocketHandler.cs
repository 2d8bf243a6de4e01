using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Halley.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Halley.Transports.WebSockets;

/// <summary>
/// Accepts WebSocket upgrades of the Bayeux endpoint at Kestrel's connection level, before the HTTP layer.
/// An idle WebSocket then holds only the socket, its pipes and Halley's own state, not an HTTP request's
/// context, headers and middleware frames: that saves 46% of the server memory of each idle WebSocket
/// (19.0 → 10.3 KB, bench/results/2026-12-02-per-connection.md). Every other request goes to HTTP untouched.
/// When the host requires authorization on the endpoint (<c>MapHalley().RequireAuthorization()</c>), its upgrades go to
/// HTTP too, where that authorization runs.
/// </summary>
internal sealed class ConnectionWebSocketHandler(WebSocketTransport transport, BrowserCookie browserCookie, ConnectionAuthorization authorization, Security.Auth.HostAuthorization host, Security.Limits.ClientLimits limits, IOptions<HalleyOptions> options, IOptions<KestrelServerOptions> kestrel)
{
    private static readonly WebSocketCreationOptions SocketOptions = new() { IsServer = true, KeepAliveInterval = TimeSpan.Zero };

    public async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next, string path)
    {
        if (!options.Value.WebSockets.AcceptAtConnectionLevel || host.IsRequiredOnBayeux)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        var (verdict, request) = await ReadUpgradeAsync(connection, path).ConfigureAwait(false);
        if (verdict == HeadOutcome.TimedOut)
        {
            return;
        }
        if (verdict == HeadOutcome.NotAnUpgrade)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        var output = connection.Transport.Output;
        var isHttps = connection.Features.Get<ITlsHandshakeFeature>() is not null;
        System.Security.Claims.ClaimsPrincipal? user = null;
        if (authorization.MustAsk(request.Origin, isHttps, request.Host))
        {
            var asked = ToConnectionRequest(connection, request, isHttps);
            var decision = await authorization.AuthorizeAsync(asked, connection.ConnectionClosed).ConfigureAwait(false);
            user = asked.User;
            if (!decision.IsAllowed)
            {
                // Refused before the 101, as the HTTP path refuses: the client sees the status and the reason.
                await output.WriteAsync(ConnectionAuthorization.RawRefusal(decision)).ConfigureAwait(false);
                return;
            }
        }
        var remoteAddress = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (!limits.TryOpenConnection(remoteAddress, out var refusal))
        {
            await output.WriteAsync(limits.RawRefusal(refusal)).ConfigureAwait(false);
            return;
        }
        try
        {
            await output.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {request.AcceptValue()}\r\n\r\n")).ConfigureAwait(false);
            await using var stream = new DuplexPipeStream(connection.Transport);
            using var socket = WebSocket.CreateFromStream(stream, SocketOptions);
            var browserId = browserCookie.Validate(request.GetCookie(browserCookie.Name));
            await transport.RunAsync(socket, browserId, user, remoteAddress, connection.ConnectionClosed, stream).ConfigureAwait(false);
        }
        finally
        {
            limits.ConnectionClosed(remoteAddress);
        }
    }

    private static ConnectionRequest ToConnectionRequest(ConnectionContext connection, WebSocketUpgradeRequest request, bool isHttps) =>
        new(Protocol.ConnectionTypes.WebSocket, request.Path, request.Origin, request.Host, isHttps, (connection.RemoteEndPoint as IPEndPoint)?.Address, httpContext: null, request.GetCookie)
        {
            Authorization = request.Authorization,
            AccessToken = request.AccessToken,
        };

    private enum HeadOutcome
    {
        Upgrade,
        NotAnUpgrade,
        TimedOut,
    }

    /// <summary>
    /// Examines the request head without consuming it. An upgrade's head is consumed; anything else is left
    /// intact for HTTP. A head that does not complete in time aborts the connection, as Kestrel would.
    /// </summary>
    private async Task<(HeadOutcome, WebSocketUpgradeRequest)> ReadUpgradeAsync(ConnectionContext connection, string path)
    {
        var input = connection.Transport.Input;
        // Kestrel's own header timeout only starts once HTTP has the connection; until then this one applies.
        using var headTimeout = new CancellationTokenSource(kestrel.Value.Limits.RequestHeadersTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(headTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (headTimeout.IsCancellationRequested)
            {
                // Routine (an idle or slow client), so a quiet abort rather than an exception for Kestrel to log.
                connection.Abort(new ConnectionAbortedException("No complete request head within Kestrel's RequestHeadersTimeout."));
                return (HeadOutcome.TimedOut, default);
            }
            var buffer = result.Buffer;
            var verdict = WebSocketUpgradeRequest.TryParse(buffer, path, out var request);
            if (verdict == WebSocketUpgradeRequest.Verdict.Upgrade)
            {
                input.AdvanceTo(buffer.GetPosition(request.HeadLength));
                return (HeadOutcome.Upgrade, request);
            }
            if (verdict == WebSocketUpgradeRequest.Verdict.NeedMore && !result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            // Nothing consumed and nothing marked examined: HTTP reads the same bytes at once.
            input.AdvanceTo(buffer.Start);
            return (HeadOutcome.NotAnUpgrade, default);
        }
    }
}
