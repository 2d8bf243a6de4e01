using System.Buffers;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Http;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Transports.Streams;

/// <summary>
/// Faye's <c>eventsource</c> connection type: <c>GET /cometd/{clientId}</c> with <c>Accept: text/event-stream</c>
/// opens a Server-Sent Events stream that pushes the session's messages, one event per batch, whose <c>data:</c>
/// is a Bayeux message array. The client keeps sending its own messages as long-polling requests, and its
/// <c>/meta/connect</c>s are answered at once (see <see cref="BayeuxProcessor"/>).
/// </summary>
/// <remarks>
/// The stream is the session's <see cref="IPushTarget"/>, as a WebSocket is; a second stream for the same session
/// takes over and the first one ends. Heartbeats and the lifetime come from the shared sweep, their bytes from
/// <see cref="ServerSentEventsTransport.SseFormat"/>. When a stream ends, whatever it had not taken stays queued in
/// the session for the next stream or connect.
/// <para>
/// Every stream opens with a comment event (<c>:open</c>) written at once, so a client can tell a stream that
/// works from one a buffering intermediary holds (stream-sense: Halley's client gives it a few seconds, then opens
/// the stream again with <c>?pad=N</c>, then falls back to long-polling). A stream whose session then holds a
/// connect over HTTP is released (see <see cref="BayeuxSession.BeginConnect"/>): its end makes the intermediary
/// pass on what it held.
/// </para>
/// </remarks>
internal sealed partial class EventSourceTransport(SessionBinding sessionBinding, MessageHub engine, BrowserCookie browserCookie, LiveConnections connections, HalleyMetrics metrics, IOptions<HalleyOptions> options, ILogger<EventSourceTransport> logger)
{
    private readonly BatchFormat _format = new(options.Value.Streaming.RetryDelay);
    private readonly StreamingOptions _streaming = options.Value.Streaming;

    /// <summary>The event every stream starts with: a comment, which an <c>EventSource</c> ignores.</summary>
    internal static ReadOnlySpan<byte> OpenEvent => ":open\n\n"u8;

    /// <summary>Whether <paramref name="request"/> asks for an event stream, as a browser's <c>EventSource</c> does.</summary>
    public static bool IsEventStreamRequest(HttpRequest request)
    {
        foreach (var value in request.Headers.Accept)
        {
            if (value is not null && value.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Serves one stream for <paramref name="clientId"/> (the path segment after the Bayeux endpoint) until it ends.</summary>
    public async Task HandleAsync(HttpContext context, string? clientId)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            context.Response.Headers.Allow = "GET";
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed,
                "An eventsource stream is opened with GET /cometd/{clientId} and Accept: text/event-stream.").ConfigureAwait(false);
            return;
        }
        if (!StreamQuery.TryReadResumePosition(request, out var since, out var positionError))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, positionError!).ConfigureAwait(false);
            return;
        }
        // A browser's EventSource never asks for padding; Halley's client does, once a plain stream stayed silent.
        if (!StreamingTransport.TryReadPadding(request.Query["pad"], _streaming, out var padding, out var paddingError))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, paddingError!).ConfigureAwait(false);
            return;
        }
        if (string.IsNullOrEmpty(clientId))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest,
                "Missing client id: an eventsource stream is GET /cometd/{clientId}, with the clientId of the /meta/handshake reply.").ConfigureAwait(false);
            return;
        }
        var binding = sessionBinding.BindStream(clientId, browserCookie.Read(request), out var session);
        if (binding == StreamBinding.NotBound)
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status403Forbidden,
                $"This request may not open a stream for that session: it lacks the browser cookie ({browserCookie.Name}) set by the session's handshake.").ConfigureAwait(false);
            return;
        }
        if (binding == StreamBinding.Bound && session.AckEnabled)
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status409Conflict,
                "The session uses the ack extension: its messages travel only in /meta/connect replies, never on a stream.").ConfigureAwait(false);
            return;
        }
        // Attaching fails when the session ended since it was looked up.
        var connection = binding == StreamBinding.Bound ? new EventSourceConnection(session, connections.StartClock()) : null;
        if (connection is null || !await AttachAsync(session, connection, since, context.RequestAborted).ConfigureAwait(false))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status404NotFound,
                "Unknown client id: no such session, or it has ended. Handshake again.").ConfigureAwait(false);
            return;
        }
        await RunAsync(context, connection, padding).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the stream the session's push target. A reconnecting <c>EventSource</c> sends the id of the last event it
    /// got (<c>Last-Event-ID</c>, or <c>?lastEventId=</c>): messages after it that went into the dead stream are sent
    /// again from history, ahead of what is still queued.
    /// </summary>
    private async ValueTask<bool> AttachAsync(BayeuxSession session, EventSourceConnection connection, StreamPosition? since, CancellationToken cancellationToken)
    {
        if (since is not { } position)
        {
            return session.AttachPushTarget(connection);
        }
        // Only what was drained, so already fanned out, can have been lost with the dead stream: the read ends there,
        // and messages fanned out meanwhile are after it, in the queue.
        var history = await engine.ReadBetweenAsync(session.Subscriptions(), position, position with { Offset = session.LastDrained }, cancellationToken).ConfigureAwait(false);
        return session.AttachPushTarget(connection, history, position.Offset);
    }

    private async Task RunAsync(HttpContext context, EventSourceConnection connection, int padding)
    {
        var aborted = context.RequestAborted;
        var session = connection.Session;
        connections.Add(connection);
        metrics.ConnectionOpened(ConnectionTypes.EventSource);
        Log.Opened(logger, session.Id);
        var end = StreamEnd.ClientGone;
        try
        {
            using var registration = aborted.UnsafeRegister(static c => ((EventSourceConnection)c!).End(), connection);
            var response = context.Response;
            response.ContentType = _format.ContentType;
            StreamingTransport.SetStreamingHeaders(response);
            var output = response.BodyWriter;
            await response.StartAsync(aborted).ConfigureAwait(false);
            // The first event, at once: the bytes a client's stream-sense waits for. Padding after it pushes it
            // through a proxy's buffer, as it does every later write.
            output.Write(OpenEvent);
            if (padding > 0)
            {
                _format.WritePadding(output, padding);
            }
            end = await StreamWriterLoop.RunAsync(output, connection, _format, padding, connections, aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client left before the stream started.
        }
        finally
        {
            // Messages that arrive from here on stay queued in the session for its next stream or connect.
            session.DetachPushTarget(connection);
            connection.End();
            connections.Remove(connection);
            metrics.ConnectionClosed(ConnectionTypes.EventSource);
            Log.Closed(logger, session.Id, end switch
            {
                StreamEnd.LifetimeEnded => "lifetime ended",
                StreamEnd.Ended when connection.WasReleased => "taken over by another stream, or the session ended",
                _ => "client left",
            });
        }
    }

    /// <summary>Server-Sent Events as Faye reads them: one event per batch, its data a Bayeux message array.</summary>
    private sealed class BatchFormat(TimeSpan retryDelay) : ServerSentEventsTransport.SseFormat(retryDelay)
    {
        public override void WriteEvents(IBufferWriter<byte> output, List<EncodedMessage> events) => WriteBatch(output, events);
    }

    /// <summary>
    /// Writes <paramref name="events"/> (at least one) as one SSE event: <c>data: [{…},{…}]</c> and a blank line, with
    /// the position of its last message that has one as the event's <c>id:</c>, which a reconnecting EventSource sends back.
    /// </summary>
    internal static void WriteBatch(IBufferWriter<byte> output, List<EncodedMessage> events)
    {
        for (var i = events.Count - 1; i >= 0; i--)
        {
            if (events[i].Position is { } position)
            {
                output.Write("id: "u8);
                output.Write(System.Text.Encoding.ASCII.GetBytes(position.ToString()));
                output.Write("\n"u8);
                break;
            }
        }
        output.Write("data: "u8);
        if (events.Count == 1)
        {
            // The engine's shared one-element array, as a WebSocket sends it.
            WriteOneLine(output, events[0].Frame.Span);
        }
        else
        {
            output.Write("["u8);
            for (var i = 0; i < events.Count; i++)
            {
                if (i > 0)
                {
                    output.Write(","u8);
                }
                WriteOneLine(output, events[i].Json.Span);
            }
            output.Write("]"u8);
        }
        output.Write("\n\n"u8);
    }

    /// <summary>
    /// Writes <paramref name="json"/> with its line breaks turned into spaces: a publisher's pretty-printed data can
    /// hold them between tokens (never inside a string), where a space means the same, and in SSE a line break
    /// would end the <c>data:</c> line.
    /// </summary>
    private static void WriteOneLine(IBufferWriter<byte> output, ReadOnlySpan<byte> json)
    {
        if (json.IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            output.Write(json);
            return;
        }
        var span = output.GetSpan(json.Length)[..json.Length];
        json.CopyTo(span);
        span.Replace((byte)'\r', (byte)' ');
        span.Replace((byte)'\n', (byte)' ');
        output.Advance(json.Length);
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Debug, "eventsource stream opened for {ClientId}", EventName = "EventSourceOpened")]
        public static partial void Opened(ILogger logger, string clientId);

        [LoggerMessage(51, LogLevel.Debug, "eventsource stream for {ClientId} closed: {Reason}", EventName = "EventSourceClosed")]
        public static partial void Closed(ILogger logger, string clientId, string reason);
    }

    /// <summary>One open stream: the session's push target, woken by deliveries and by the shared sweep.</summary>
    private sealed class EventSourceConnection(BayeuxSession session, LiveClock clock) : IPushTarget, ILiveConnection, IStreamSource
    {
        private readonly StreamSignal _signal = new(clock);
        private volatile bool _released;

        public BayeuxSession Session { get; } = session;

        public LiveClock Clock => _signal.Clock;

        /// <summary>Set when the session stopped pushing through this stream (another took over, or the session ended).</summary>
        public bool WasReleased => _released;

        public bool YieldsToPolling => true;

        public void MessagesAvailable() => _signal.MessagesAvailable();

        public void Released()
        {
            _released = true;
            _signal.End();
        }

        public long OnSweep(long now) => _signal.OnSweep(now);

        public void End() => _signal.End();

        public Task WaitAsync() => _signal.WaitAsync();

        /// <summary>Takes the session's queued messages and what else is due.</summary>
        public StreamWork Take(List<EncodedMessage> events)
        {
            // Reset before draining: a delivery that lands after the drain wakes the next wait instead of being missed.
            _signal.Reset();
            Session.Drain(this, events);
            return _signal.Due(hasEvents: events.Count > 0);
        }
    }
}
