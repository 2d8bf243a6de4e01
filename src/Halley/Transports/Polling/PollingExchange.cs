using System.Buffers;
using System.Text.Json;
using Halley.Engine;
using Halley.Http;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;

namespace Halley.Transports.Polling;

/// <summary>
/// One request/response exchange shared by the HTTP polling transports: parse the batch, process it, hold its
/// connect, and produce the reply array. The transports differ only in where the batch comes from and how the
/// array is wrapped.
/// </summary>
internal sealed class PollingExchange(BayeuxProcessor processor, BrowserCookie browserCookie, Security.Limits.ClientLimits limits)
{
    /// <summary>
    /// Runs the exchange: answers malformed JSON with HTTP 400 and a superseded connect with an empty 500
    /// itself, abandons the connect quietly when the client went away, and otherwise calls
    /// <paramref name="write"/> with the reply array.
    /// </summary>
    public async Task RunAsync(HttpContext context, ReadOnlyMemory<byte> json, string connectionType, Func<HttpContext, Action<Utf8JsonWriter>, Task> write)
    {
        var aborted = context.RequestAborted;
        var parsed = BayeuxCodec.TryParseBatch(json, limits.Batch, out var batch);
        if (parsed != BatchParseError.None)
        {
            limits.BatchRefused(parsed);
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, parsed switch
            {
                BatchParseError.TooManyMessages => $"Too many messages in one batch: at most {limits.Batch.MaxMessages} (Halley:Limits:MaxMessagesPerBatch).",
                BatchParseError.TooDeep => $"JSON nested too deep: at most {limits.Batch.MaxDepth} levels (Halley:Limits:MaxJsonDepth).",
                BatchParseError.InvalidUtf8 => "The request body is not UTF-8.",
                _ => "Malformed Bayeux request: expected a JSON array of message objects.",
            }).ConfigureAwait(false);
            return;
        }
        var hasHandshake = batch.Exists(static m => m.Channel == MetaChannels.Handshake);
        var transport = new TransportContext
        {
            ConnectionType = connectionType,
            BrowserId = hasHandshake ? browserCookie.ReadOrIssue(context) : browserCookie.Read(context.Request),
            User = Security.Auth.HalleyIdentity.IsAuthenticated(context.User) ? context.User : null,
            RemoteAddress = context.Connection.RemoteIpAddress,
        };
        var replies = new List<BayeuxReply>(batch.Count);
        var pending = await processor.ProcessAsync(batch, transport, replies, aborted).ConfigureAwait(false);
        var events = new List<EncodedMessage>();
        if (pending is not null)
        {
            ConnectOutcome outcome;
            try
            {
                outcome = await pending.Held.Outcome.WaitAsync(aborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                pending.Session.AbandonConnect(pending.Held);
                return;
            }
            if (outcome == ConnectOutcome.Replaced)
            {
                // As CometD does: the superseded connect gets an empty 500, and the client keeps the newer one.
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }
            replies.Add(processor.CompleteConnect(pending, outcome, events));
        }
        await write(context, writer => WriteBatch(writer, replies, events)).ConfigureAwait(false);
    }

    private static void WriteBatch(Utf8JsonWriter writer, List<BayeuxReply> replies, List<EncodedMessage> events)
    {
        var raw = new ReadOnlyMemory<byte>[events.Count];
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = events[i].Json;
        }
        BayeuxCodec.WriteBatch(writer, replies, raw);
    }
}
