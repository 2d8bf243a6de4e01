using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>
/// The single timer behind every held-connect timeout, lazy flush, session expiry, heartbeat and connection
/// lifetime, and history expiry on this node: one pass every <see cref="HalleyOptions.SweepPeriod"/> instead of a timer per connection.
/// </summary>
internal sealed class SessionSweeper(SessionRegistry registry, LiveConnections connections, Engine.MessageHub engine, IOptions<HalleyOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                registry.Sweep();
                connections.Sweep();
                engine.Sweep();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }
}
