using System.IO.Pipelines;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Transports.Streams;

/// <summary>
/// The one writer loop of every HTTP stream (<c>/sse</c>, <c>/stream</c>, Faye's <c>eventsource</c>): flush what the
/// caller wrote first, then wait, take, write events or a heartbeat, pad, flush, until the stream ends. The caller
/// owns the response and everything before and after the loop.
/// </summary>
internal static class StreamWriterLoop
{
    /// <summary>
    /// Runs until the stream ends. <paramref name="padding"/> bytes of filler follow each write: a buffering
    /// intermediary (nginx with proxy_buffering on, its header ignored) passes a buffer on only once it is full,
    /// and the filler fills the buffer the write landed in.
    /// </summary>
    public static async Task<StreamEnd> RunAsync(PipeWriter output, IStreamSource source, StreamFormat format, int padding, LiveConnections connections, CancellationToken aborted)
    {
        var events = new List<EncodedMessage>();
        try
        {
            // What the caller wrote (headers, prelude, padding, start) goes out at once: a browser's EventSource
            // opens on it, and Faye selects the transport on `open`.
            if (!await FlushAsync(output, source, connections, aborted).ConfigureAwait(false))
            {
                return StreamEnd.ClientGone;
            }
            while (true)
            {
                await source.WaitAsync().ConfigureAwait(false);
                var work = source.Take(events);
                if (work.Ended)
                {
                    return StreamEnd.Ended;
                }
                var wrote = events.Count > 0 || work.Heartbeat;
                if (events.Count > 0)
                {
                    format.WriteEvents(output, events);
                    events.Clear();
                }
                if (work.Heartbeat)
                {
                    format.WriteHeartbeat(output);
                }
                if (padding > 0 && wrote)
                {
                    format.WritePadding(output, padding);
                }
                if (work.Close)
                {
                    format.WriteEnd(output);
                    await FlushAsync(output, source, connections, aborted).ConfigureAwait(false);
                    return StreamEnd.LifetimeEnded;
                }
                if (!await FlushAsync(output, source, connections, aborted).ConfigureAwait(false))
                {
                    return StreamEnd.ClientGone;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            return StreamEnd.ClientGone;
        }
    }

    private static async ValueTask<bool> FlushAsync(PipeWriter output, IStreamSource source, LiveConnections connections, CancellationToken aborted)
    {
        var result = await output.FlushAsync(aborted).ConfigureAwait(false);
        source.Clock.Sent(connections.Now);
        return !result.IsCanceled && !result.IsCompleted;
    }
}
