using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Protocol;

namespace Halley.Extensions;

/// <summary>
/// Server side of CometD's <c>ack</c> extension (docs/protocol.md, "Extensions"): a handshake with
/// <c>ext.ack: true</c> turns it on for the session, and the reply says so; from then on each connect reply carries
/// its batch number in <c>ext.ack</c> and each connect acknowledges the last batch the client received. The batches
/// themselves are the session's (<see cref="Sessions.AckBatches"/>): this class only speaks the protocol.
/// </summary>
internal sealed class AckExtension : IBayeuxExtension
{
    public bool ReceiveMeta(BayeuxExtensionMessage message)
    {
        if (message.Channel == MetaChannels.Connect && message.Session is { AckEnabled: true } session
            && message.ClientMessage.TryGetExt("ack", out var ack) && ack.ValueKind == JsonValueKind.Number && ack.TryGetInt64(out var batch))
        {
            session.Acknowledge(batch);
        }
        return true;
    }

    public void SendMeta(BayeuxExtensionMessage reply)
    {
        switch (reply.Channel)
        {
            // Turned on as the handshake reply is sent, still before a WebSocket starts carrying the session: a session
            // using ack delivers through connect replies only, and the socket must know that when it attaches.
            case MetaChannels.Handshake when reply.Successful && reply.Session is { } session
                && reply.ClientMessage.TryGetExt("ack", out var ack) && ack.ValueKind == JsonValueKind.True:
                session.EnableAck();
                (reply.Ext ??= [])["ack"] = true;
                break;
            case MetaChannels.Connect when reply.AckBatch is { } batch:
                (reply.Ext ??= [])["ack"] = batch;
                break;
        }
    }
}
