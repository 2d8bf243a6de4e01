using Halley.Protocol;
using Halley.Sessions;
using Microsoft.Extensions.Logging;

namespace Halley.Extensions;

/// <summary>
/// Runs the registered <see cref="IBayeuxExtension"/>s: incoming in registration order, outgoing in reverse order
/// (the contract is on <see cref="IBayeuxExtension"/>). The processor calls it for every client message it acts on
/// and every reply it sends.
/// </summary>
internal sealed partial class ExtensionPipeline(IEnumerable<IBayeuxExtension> extensions, ILogger<ExtensionPipeline> logger)
{
    // DI returns an IEnumerable in registration order: AddHalley's timesync and ack first, then the host's.
    private readonly IBayeuxExtension[] _extensions = [.. extensions];

    /// <summary>
    /// Runs the incoming hooks on <paramref name="message"/>, bound to <paramref name="session"/> (null for a
    /// handshake). False when one refused it; the caller then answers with <see cref="Refusal"/>.
    /// </summary>
    public bool Receive(BayeuxMessage message, BayeuxSession? session, long receivedAt)
    {
        var view = new BayeuxExtensionMessage(message, session, receivedAt);
        var meta = view.IsMeta;
        foreach (var extension in _extensions)
        {
            bool accepted;
            try
            {
                accepted = meta ? extension.ReceiveMeta(view) : extension.Receive(view);
            }
            catch (Exception ex)
            {
                // Fails closed: an extension that guards something must not let a message through by crashing.
                Log.IncomingFailed(logger, extension.GetType().Name, view.Channel, ex);
                accepted = false;
            }
            if (!accepted)
            {
                return false;
            }
        }
        view.ApplyToRequest();
        return true;
    }

    /// <summary>The reply to a message an extension refused.</summary>
    public static BayeuxReply Refusal(BayeuxMessage message) =>
        BayeuxReply.Failure(message, BayeuxErrors.RefusedByExtension(message.Channel ?? ""));

    /// <summary>
    /// Runs the outgoing hooks on <paramref name="reply"/>, the answer to <paramref name="request"/> for
    /// <paramref name="session"/> (when one was bound or created). <paramref name="ackBatch"/> is the ack batch a
    /// connect reply carries.
    /// </summary>
    public void Send(BayeuxReply reply, BayeuxMessage request, BayeuxSession? session, long receivedAt, long? ackBatch = null)
    {
        var view = new BayeuxExtensionMessage(reply, request, session, receivedAt) { AckBatch = ackBatch };
        var meta = view.IsMeta;
        for (var i = _extensions.Length - 1; i >= 0; i--)
        {
            var extension = _extensions[i];
            try
            {
                if (meta)
                {
                    extension.SendMeta(view);
                }
                else
                {
                    extension.Send(view);
                }
            }
            catch (Exception ex)
            {
                // The reply still goes out: the client waits for it, and a connect reply carries drained messages.
                Log.OutgoingFailed(logger, extension.GetType().Name, view.Channel, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Error, "Extension {Extension} failed on an incoming message on {Channel}; the message is refused", EventName = "ExtensionIncomingFailed")]
        public static partial void IncomingFailed(ILogger logger, string extension, string channel, Exception exception);

        [LoggerMessage(21, LogLevel.Error, "Extension {Extension} failed on a reply on {Channel}; the reply is sent as it is", EventName = "ExtensionOutgoingFailed")]
        public static partial void OutgoingFailed(ILogger logger, string extension, string channel, Exception exception);
    }
}
