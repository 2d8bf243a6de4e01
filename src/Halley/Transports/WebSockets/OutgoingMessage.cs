using Halley.Engine;
using Halley.Protocol;

namespace Halley.Transports.WebSockets;

/// <summary>One message waiting for a WebSocket's flush: a reply the connection built, or an engine-encoded event.</summary>
internal readonly record struct OutgoingMessage(BayeuxReply? Reply, EncodedMessage? Event)
{
    public OutgoingMessage(BayeuxReply reply) : this(reply, null) { }

    public OutgoingMessage(EncodedMessage message) : this(null, message) { }
}
