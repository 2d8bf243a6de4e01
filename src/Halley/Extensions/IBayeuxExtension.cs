namespace Halley.Extensions;

/// <summary>
/// A Bayeux extension, as CometD's <c>BayeuxServer.Extension</c>: hooks that see every message a client sends
/// (<see cref="ReceiveMeta"/>, <see cref="Receive"/>) and every reply the server sends back (<see cref="SendMeta"/>,
/// <see cref="Send"/>), typically to read or write their <c>ext</c>. Registered with
/// <see cref="IHalleyBuilder.AddExtension{TExtension}"/> (a singleton, called concurrently for all clients). Halley's
/// own <c>timesync</c> and <c>ack</c> extensions are registered first, by <c>AddHalley</c>, in that order.
/// </summary>
/// <remarks>
/// <para>
/// <b>Order.</b> The incoming hooks run in registration order, the outgoing hooks in reverse order: extensions
/// nest like layers, so the first registered is the outermost, first to see a client's message and last to touch
/// the reply, and every extension sees the replies in the state the extensions inside it left them. This is
/// CometD's order. (So <c>timesync</c>, the outermost, measures the whole pipeline in <c>ext.timesync.p</c>.)
/// </para>
/// <para>
/// <b>When the incoming hooks run.</b> Once per client message, after the message was found well-formed and, except
/// for a <c>/meta/handshake</c>, bound to its session (see docs/protocol.md, "Session binding"), so
/// <see cref="BayeuxExtensionMessage.ClientId"/> is a session the sender may act for; before the server acts on it.
/// A message the server refuses before that (malformed, unknown session) never reaches them. <see cref="ReceiveMeta"/>
/// gets <c>/meta/*</c> messages, <see cref="Receive"/> publishes (broadcast and <c>/service/**</c> channels).
/// </para>
/// <para>
/// <b>Returning false</b> from an incoming hook refuses the message: the later extensions are not asked, the server
/// does not act on it (no session is created, nothing is subscribed or published), and the client gets a Bayeux
/// error reply, <c>403:&lt;channel&gt;:refused_by_extension</c>, which goes through the outgoing hooks like any
/// reply. A message is never dropped silently. An incoming hook that throws refuses the message the same way (and
/// the exception is logged): an extension that guards something fails closed.
/// </para>
/// <para>
/// <b>When the outgoing hooks run.</b> Once per reply to a client message, refusals included, just before it is
/// written: <see cref="SendMeta"/> for replies on <c>/meta/*</c>, <see cref="Send"/> for the replies to publishes.
/// A held <c>/meta/connect</c>'s reply goes through them when the hold ends. The events a publish fans out to
/// subscribers do not: each is encoded once for all its subscribers. Outgoing hooks cannot drop a reply (a client
/// waits for every one of them); one that throws is logged, and the reply goes out as the others left it.
/// </para>
/// <para>
/// <b>What a hook may change:</b> the message's <see cref="BayeuxExtensionMessage.Ext"/>, nothing else. On an incoming
/// message the server then acts on the changed <c>ext</c>; on a reply the client receives it. Hooks run on the
/// request's thread, for every message: keep them fast and never block (use an <see cref="Security.IConnectionAuthorizer"/>
/// for per-connection checks that need I/O). The message is valid only during the call.
/// </para>
/// <para>Every hook has a default body that does nothing (and accepts): implement only those you need.</para>
/// </remarks>
public interface IBayeuxExtension
{
    /// <summary>
    /// Called with each <c>/meta/*</c> message a client sends (handshake, connect, subscribe, unsubscribe,
    /// disconnect). Returns false to refuse it.
    /// </summary>
    bool ReceiveMeta(BayeuxExtensionMessage message) => true;

    /// <summary>Called with each publish a client sends, on a broadcast or a service channel. Returns false to refuse it.</summary>
    bool Receive(BayeuxExtensionMessage message) => true;

    /// <summary>Called with each reply on a <c>/meta/*</c> channel before it is sent; <see cref="BayeuxExtensionMessage.Request"/> is what it answers.</summary>
    void SendMeta(BayeuxExtensionMessage reply)
    {
    }

    /// <summary>Called with each reply to a publish before it is sent; <see cref="BayeuxExtensionMessage.Request"/> is the publish.</summary>
    void Send(BayeuxExtensionMessage reply)
    {
    }
}
