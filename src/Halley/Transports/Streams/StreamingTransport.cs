using System.Buffers;
using System.Text;
using Halley.Channels;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Http;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Halley.Transports.Streams;

/// <summary>How one kind of streaming response frames its bytes.</summary>
internal abstract class StreamFormat
{
    public abstract string ContentType { get; }

    /// <summary>Written once, right after the headers.</summary>
    public virtual void WritePrelude(IBufferWriter<byte> output)
    {
    }

    /// <summary>
    /// Written once, after the prelude and padding, before any event: where the stream starts, so a client that
    /// receives no event before it reconnects still resumes from here, and on a resume whether it was complete.
    /// Only when <see cref="StreamStart.IsAnnounced"/>.
    /// </summary>
    public abstract void WriteStart(IBufferWriter<byte> output, StreamStart start);

    /// <summary>Exactly <paramref name="count"/> bytes of filler that a client ignores (count &gt; 0).</summary>
    public abstract void WritePadding(IBufferWriter<byte> output, int count);

    public abstract void WriteEvent(IBufferWriter<byte> output, EncodedMessage message);

    /// <summary>Writes the messages one wake-up took (at least one); one event each unless a format batches them.</summary>
    public virtual void WriteEvents(IBufferWriter<byte> output, List<EncodedMessage> events)
    {
        foreach (var message in events)
        {
            WriteEvent(output, message);
        }
    }

    /// <summary>Bytes that keep a quiet connection alive and that a client ignores.</summary>
    public abstract void WriteHeartbeat(IBufferWriter<byte> output);

    /// <summary>Written when the server ends the stream at the end of its lifetime.</summary>
    public abstract void WriteEnd(IBufferWriter<byte> output);

    /// <summary>Writes <paramref name="count"/> copies of <paramref name="value"/>.</summary>
    protected static void Fill(IBufferWriter<byte> output, byte value, int count)
    {
        while (count > 0)
        {
            var span = output.GetSpan(Math.Min(count, 4096));
            var n = Math.Min(count, span.Length);
            span[..n].Fill(value);
            output.Advance(n);
            count -= n;
        }
    }
}

/// <summary>How a stream starts: from where, and for a resumed stream whether every missed message follows.</summary>
/// <param name="Position">The engine's position when the subscription took effect.</param>
/// <param name="Resumed">Whether the client asked to resume from a position (<c>Last-Event-ID</c>, <c>?lastEventId=</c>).</param>
/// <param name="Recovered">For a resumed stream, whether every message it missed is replayed next.</param>
/// <param name="HasHistory">Whether any channel keeps history; without it and without a resume, a stream starts with no control line.</param>
internal readonly record struct StreamStart(StreamPosition Position, bool Resumed, bool Recovered, bool HasHistory)
{
    /// <summary>Whether the stream starts with a control line at all: positions mean nothing on a server with no history.</summary>
    public bool IsAnnounced => Resumed || HasHistory;

    /// <summary>
    /// The control object streams send first: <c>{"position":…}</c> for a new stream, <c>{"recovered":true}</c>
    /// when the missed messages follow (their own positions move the client on), <c>{"recovered":false,"position":…}</c>
    /// when they are lost and the client must reload its state. A client resumes from the last position it read,
    /// in an event or here.
    /// </summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (Resumed)
            {
                writer.WriteBoolean("recovered"u8, Recovered);
            }
            if (!Resumed || !Recovered)
            {
                writer.WriteString("position"u8, Position.ToString());
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Whether the client should now resume from <see cref="Position"/> rather than from where it was.</summary>
    public bool MovesClient => !Resumed || !Recovered;
}

/// <summary>
/// The subscribe-only streaming endpoints (<c>GET /sse</c>, <c>GET /stream</c>): validate the channels exactly as a
/// Bayeux subscribe is validated and authorized (the same channel rules, a <c>subscription_token</c> query parameter
/// where a rule wants one), subscribe a <see cref="StreamingConnection"/>, and write its events until the
/// client leaves, the connection's lifetime ends, or it stops reading. The request's handler is the connection's
/// one writer and the one owner of its cancellation.
/// </summary>
internal abstract partial class StreamingTransport(MessageHub engine, LiveConnections connections, HalleyMetrics metrics, BayeuxCors cors, ConnectionAuthorization authorization, Security.Auth.ChannelAuthorization channelAuthorization, HalleyOptions options, ILogger logger)
{
    /// <summary>The name used in metrics and logs.</summary>
    protected abstract string Name { get; }

    /// <summary>Picks the response format from the request; returns an error text for HTTP 400 instead when the request is invalid.</summary>
    protected abstract StreamFormat? SelectFormat(HttpRequest request, out string? error);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        // The same allow-list as /cometd: an EventSource or fetch() on another origin needs it to read the stream.
        if (cors.Apply(context))
        {
            return;
        }
        // HEAD is GET without the stream: the same checks, the same status and headers, no body, no subscription.
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status405MethodNotAllowed, "Use GET (or HEAD).").ConfigureAwait(false);
            return;
        }
        if (!await authorization.TryAuthorizeAsync(context, Name).ConfigureAwait(false))
        {
            return;
        }
        if (!StreamQuery.TryReadChannels(request.Query["channel"], options.Streaming.MaxChannelsPerRequest, out var channels, out var error)
            || !TryReadPadding(request.Query["pad"], options.Streaming, out var padding, out error)
            || !StreamQuery.TryReadResumePosition(request, out var since, out error))
        {
            if (request.Query["channel"].Count > options.Streaming.MaxChannelsPerRequest)
            {
                metrics.LimitExceeded(Security.Limits.ClientLimits.Names.StreamChannels);
            }
            await BadRequestAsync(context, error).ConfigureAwait(false);
            return;
        }
        if (!channelAuthorization.IsOpen && !await AuthorizeChannelsAsync(context, channels).ConfigureAwait(false))
        {
            return;
        }
        var format = SelectFormat(request, out error);
        if (format is null)
        {
            await BadRequestAsync(context, error).ConfigureAwait(false);
            return;
        }
        var response = context.Response;
        response.ContentType = format.ContentType;
        SetStreamingHeaders(response);
        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }
        await RunAsync(context, format, channels, padding, since).ConfigureAwait(false);
    }

    /// <summary>Checks every channel for the request's user; a refusal is answered (403, or 401 without an identity).</summary>
    private async Task<bool> AuthorizeChannelsAsync(HttpContext context, List<string> channels)
    {
        var user = Security.Auth.HalleyIdentity.IsAuthenticated(context.User) ? context.User : null;
        var tokens = context.Request.Query[Security.Auth.ChannelAuthorization.TokenQueryParameter];
        var token = tokens.Count == 1 ? tokens[0] : null;
        foreach (var channel in channels)
        {
            if (await channelAuthorization.CheckAsync(ChannelOperation.Subscribe, channel, user, Name, null, token, context.RequestAborted).ConfigureAwait(false) is { } reason)
            {
                var status = user is null && reason == Security.Auth.ChannelRequirement.AuthenticationRequired ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
                await HttpResponses.WriteStatusAsync(context, status, $"{channel}: {reason}").ConfigureAwait(false);
                return false;
            }
        }
        return true;
    }

    /// <summary>Headers that ask proxies and browsers not to cache, buffer or transform the stream.</summary>
    internal static void SetStreamingHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    private async Task RunAsync(HttpContext context, StreamFormat format, List<string> channels, int padding, StreamPosition? since)
    {
        var aborted = context.RequestAborted;
        var connection = new StreamingConnection(options.MaxQueue, options.QueueFullPolicy, connections.StartClock(Security.Auth.HalleyIdentity.ExpiresAt(context.User)), context.Abort);
        // Missed messages, if any, are queued before the live ones: the writer sends them right after the start.
        Recovery recovery;
        try
        {
            recovery = await engine.SubscribeAsync(channels, connection, since, aborted).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // An engine that fails or is cancelled mid-subscribe (a store over the network) leaves nothing behind.
            connection.End();
            foreach (var channel in channels)
            {
                engine.Unsubscribe(channel, connection);
            }
            if (ex is EngineUnavailableException unavailable && !context.Response.HasStarted)
            {
                await HttpResponses.WriteUnavailableAsync(context, unavailable).ConfigureAwait(false);
                return;
            }
            throw;
        }
        var start = new StreamStart(recovery.Position, since is not null, recovery.Recovered, engine.HasHistory);
        connections.Add(connection);
        metrics.ConnectionOpened(Name);
        Log.Opened(logger, Name, string.Join(' ', channels));
        var end = StreamEnd.ClientGone;
        try
        {
            using var registration = aborted.UnsafeRegister(static c => ((StreamingConnection)c!).End(), connection);
            var output = context.Response.BodyWriter;
            await context.Response.StartAsync(aborted).ConfigureAwait(false);
            format.WritePrelude(output);
            if (padding > 0)
            {
                format.WritePadding(output, padding);
            }
            if (start.IsAnnounced)
            {
                format.WriteStart(output, start);
            }
            end = await StreamWriterLoop.RunAsync(output, connection, format, padding, connections, aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client left before the stream started.
        }
        finally
        {
            connection.End();
            connections.Remove(connection);
            foreach (var channel in channels)
            {
                engine.Unsubscribe(channel, connection);
            }
            metrics.ConnectionClosed(Name);
            Log.Closed(logger, Name, end == StreamEnd.LifetimeEnded ? "lifetime ended" : connection.Overflowed ? "queue full (slow consumer)" : "client left");
        }
    }

    private static Task BadRequestAsync(HttpContext context, string? error) =>
        HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, error ?? "Bad request.");

    internal static bool TryReadPadding(StringValues values, StreamingOptions settings, out int padding, out string? error)
    {
        error = null;
        padding = settings.Padding;
        if (values.Count == 0)
        {
            return true;
        }
        if (values.Count > 1 || !int.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out padding)
            || padding > settings.MaxPadding)
        {
            error = $"Invalid 'pad': a number of bytes from 0 to {settings.MaxPadding} (Halley:Streaming:MaxPadding).";
            return false;
        }
        return true;
    }

    /// <summary>Client input echoed in an error: truncated and limited to printable ASCII.</summary>

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Debug, "{Transport} stream opened for {Channels}", EventName = "StreamOpened")]
        public static partial void Opened(ILogger logger, string transport, string channels);

        [LoggerMessage(41, LogLevel.Debug, "{Transport} stream closed: {Reason}", EventName = "StreamClosed")]
        public static partial void Closed(ILogger logger, string transport, string reason);
    }
}
