using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>Collects <c>halley.limits.exceeded</c> of one server (other tests run servers beside it) by <c>limit</c> tag.</summary>
public sealed class LimitCounter : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public LimitCounter(TestServer server)
    {
        var factory = server.Services.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "halley.limits.exceeded" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "limit")
                {
                    _counts.AddOrUpdate((string)tag.Value!, (int)value, (_, c) => c + (int)value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>How many refusals were counted under <paramref name="limit"/>.</summary>
    public int this[string limit] => _counts.TryGetValue(limit, out var count) ? count : 0;

    public void Dispose() => _listener.Dispose();
}
