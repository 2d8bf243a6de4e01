using Microsoft.Extensions.Options;

namespace Halley.Server.Samples.Ticker;

/// <summary>
/// The ticker sample's price feed: a hosted service of <c>halley serve</c> that publishes a <see cref="PriceWalk"/>'s
/// quotes on <c>/samples/ticker/{symbol}</c> through <see cref="IHalleyPublisher"/>, as any backend would, at
/// <see cref="TickerOptions.UpdatesPerSecond"/>. Registered only when <see cref="TickerOptions.Enabled"/>.
/// </summary>
internal sealed partial class TickerFeed(IHalleyPublisher publisher, IOptions<TickerOptions> options, TimeProvider time, ILogger<TickerFeed> logger)
    : BackgroundService
{
    /// <summary>The channels' common prefix: a quote of HALY goes to <c>/samples/ticker/HALY</c>.</summary>
    public const string ChannelPrefix = "/samples/ticker/";

    // The loop wakes at most this often and publishes the updates that fell due meanwhile: a timer per update would
    // not keep up at thousands a second, and waking every 50 ms keeps a low rate smooth.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    private readonly PriceWalk _walk = new(new Random());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rate = options.Value.UpdatesPerSecond;
        var interval = TimeSpan.FromSeconds(1.0 / rate);
        using var timer = new PeriodicTimer(interval > Tick ? interval : Tick, time);
        var started = time.GetTimestamp();
        long published = 0;
        Log.Started(logger, rate);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                // Due by the clock, not by the ticks: a late tick catches up, so the rate holds on a busy machine.
                var due = (long)(time.GetElapsedTime(started).TotalSeconds * rate);
                for (; published < due; published++)
                {
                    var quote = _walk.Step();
                    await PublishAsync(quote, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task PublishAsync(Quote quote, CancellationToken cancellationToken)
    {
        try
        {
            await publisher.PublishAsync(ChannelPrefix + quote.Symbol, quote, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An engine that is briefly unavailable (Redis restarting) costs a few quotes, not the feed.
            Log.PublishFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "The ticker sample's price feed publishes {Rate} updates/s on /samples/ticker/*", EventName = "TickerStarted")]
        public static partial void Started(ILogger logger, int rate);

        [LoggerMessage(2, LogLevel.Warning, "The ticker sample's price feed could not publish", EventName = "TickerPublishFailed")]
        public static partial void PublishFailed(ILogger logger, Exception exception);
    }
}
