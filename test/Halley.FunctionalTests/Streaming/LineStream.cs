using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Streaming;

/// <summary>
/// A streaming GET read line by line as it arrives, each line stamped with when it arrived; what an
/// <c>EventSource</c> or a <c>fetch()</c> reader sees.
/// </summary>
public sealed class LineStream : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<(string Line, TimeSpan At)> _lines = Channel.CreateUnbounded<(string, TimeSpan)>();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task? _reader;

    private LineStream(HttpClient http, HttpResponseMessage response)
    {
        _http = http;
        Response = response;
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Set when the server ended the response.</summary>
    public bool Ended { get; private set; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public static async Task<LineStream> OpenAsync(Uri url, Version? version = null, Action<HttpRequestMessage>? configure = null, string? lastEventId = null)
    {
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        if (version is not null)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        configure?.Invoke(request);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).Within();
        var stream = new LineStream(http, response);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            stream._reader = stream.ReadAsync();
        }
        return stream;
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await Response.Content.ReadAsStreamAsync(_stop.Token));
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                _lines.Writer.TryWrite((line, _clock.Elapsed));
            }
            Ended = true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            Ended = true;
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }

    /// <summary>The next line matching <paramref name="predicate"/> (others are skipped), or null when the stream ended first.</summary>
    public async Task<(string Line, TimeSpan At)?> NextAsync(Func<string, bool> predicate, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeouts.Default);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(cts.Token))
            {
                while (_lines.Reader.TryRead(out var item))
                {
                    if (predicate(item.Line))
                    {
                        return item;
                    }
                }
            }
            return null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching line within {timeout ?? Timeouts.Default}.");
        }
    }

    /// <summary>The next <c>data:</c> line's payload.</summary>
    public async Task<string> NextDataAsync(TimeSpan? timeout = null) =>
        (await NextAsync(l => l.StartsWith("data: ", StringComparison.Ordinal), timeout))?.Line["data: ".Length..]
        ?? throw new InvalidOperationException("The stream ended before an event arrived.");

    /// <summary>Whether a matching line arrives within <paramref name="window"/>.</summary>
    public async Task<bool> ArrivesWithinAsync(Func<string, bool> predicate, TimeSpan window)
    {
        try
        {
            return await NextAsync(predicate, window) is not null;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        Response.Dispose();
        if (_reader is not null)
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(5));
        }
        _http.Dispose();
        _stop.Dispose();
    }
}
