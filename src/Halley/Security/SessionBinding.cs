using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Halley.Protocol;
using Halley.Sessions;
using Microsoft.Extensions.Options;

namespace Halley.Security;

/// <summary>
/// Session binding: which requests may act for a session (docs/protocol.md, "Session binding"). A client id alone is
/// not enough, so a leaked one cannot be used by someone else. A request may act for a session when
/// <list type="number">
/// <item>it arrives on the WebSocket that created or adopted the session (its <see cref="BayeuxSession.Owner"/>);</item>
/// <item>it carries the browser cookie (<c>BAYEUX_BROWSER</c>) the session was created with;</item>
/// <item>its <c>ext.halley.token</c> is the session's token, from the handshake reply;</item>
/// <item>it is the first WebSocket to use the session in one of its one-time claim windows
/// (<see cref="BayeuxSession.TryClaimForWebSocket"/>).</item>
/// </list>
/// The processor asks here for every message but a handshake, and the Faye <c>eventsource</c> stream asks
/// <see cref="BindStream"/>; the rules live in Security/ with the connection authorization, so that what decides
/// who may do what is in one place.
/// </summary>
internal sealed class SessionBinding
{
    private readonly SessionRegistry _sessions;
    private readonly SessionBindingOptions _options;
    private readonly long _handshakeClaimTicks;

    public SessionBinding(SessionRegistry sessions, IOptions<HalleyOptions> options)
    {
        _sessions = sessions;
        _options = options.Value.SessionBinding;
        // The socket Faye opens with its HTTP handshake first speaks, at the latest, with the connect that follows
        // one held over long-polling: at most Timeout later, and within MaxInterval of that connect's reply, or the
        // session has expired anyway. So the handshake's claim window lasts one connect cycle and no longer.
        _handshakeClaimTicks = sessions.ToTicks(options.Value.Timeout + options.Value.MaxInterval);
    }

    /// <summary>
    /// A session was just created by <paramref name="message"/>, a handshake that arrived on <paramref name="context"/>:
    /// opens its handshake claim window (rule 4) when the client may come back on a WebSocket without the cookie.
    /// </summary>
    public void Handshaken(BayeuxSession session, BayeuxMessage message, TransportContext context)
    {
        // A client that says it cannot use WebSocket never needs a cookie-less socket to take its session over;
        // a handshake over a socket already owns the session (rule 1).
        if (context.Carrier is null && (message.SupportedConnectionTypes is not { } offered || offered.Contains(ConnectionTypes.WebSocket, StringComparer.Ordinal)))
        {
            session.OpenHandshakeClaimWindow(_sessions.Now + _handshakeClaimTicks);
        }
    }

    /// <summary>
    /// Finds the live session <paramref name="message"/> names and checks that the request may act for it. A
    /// WebSocket that binds a session by any rule becomes its owner and closes its claim windows.
    /// </summary>
    public bool TryBind(BayeuxMessage message, TransportContext context, out BayeuxSession session)
    {
        if (!_sessions.TryGet(message.ClientId, out session) || !IsBound(session, message, context))
        {
            return false;
        }
        if (context.Carrier is not null && !ReferenceEquals(session.Owner, context.Carrier))
        {
            session.Owner = context.Carrier;
            // The client has its socket now: no other may take the session over by client id alone.
            session.CloseClaimWindows();
        }
        return true;
    }

    /// <summary>
    /// Whether a Faye <c>eventsource</c> stream (<c>GET /cometd/{clientId}</c>) may push <paramref name="clientId"/>'s
    /// messages. An <c>EventSource</c> can send neither <c>ext</c> nor headers, so only the browser cookie the session
    /// was created with binds it (rule 2), unless that rule is turned off.
    /// </summary>
    public StreamBinding BindStream(string? clientId, string? browserId, out BayeuxSession session)
    {
        if (!_sessions.TryGet(clientId, out session))
        {
            return StreamBinding.UnknownSession;
        }
        if (!_options.RequireBrowserCookie)
        {
            return StreamBinding.Bound;
        }
        return session.BrowserId is not null && browserId is not null && FixedTimeEquals(browserId, session.BrowserId)
            ? StreamBinding.Bound
            : StreamBinding.NotBound;
    }

    /// <summary>
    /// The four rules of the class summary. The claim (rule 4) is tried last, since trying it closes the windows;
    /// with the cookie rule turned off, any request with a valid client id is bound before it.
    /// </summary>
    private bool IsBound(BayeuxSession session, BayeuxMessage message, TransportContext context)
    {
        if (context.Carrier is not null && ReferenceEquals(session.Owner, context.Carrier))
        {
            return true;
        }
        if (message.TryGetExt("halley", out var halley) && halley.ValueKind == JsonValueKind.Object
            && halley.TryGetProperty("token", out var token) && token.ValueKind == JsonValueKind.String
            && FixedTimeEquals(token.GetString()!, session.Token))
        {
            return true;
        }
        if (!_options.RequireBrowserCookie)
        {
            return true;
        }
        if (session.BrowserId is not null && context.BrowserId is not null && FixedTimeEquals(context.BrowserId, session.BrowserId))
        {
            return true;
        }
        return context.Carrier is not null && session.TryClaimForWebSocket();
    }

    // Secrets (token, browser id) are compared in constant time, so their value cannot be guessed byte by byte.
    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
