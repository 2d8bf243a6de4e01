using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>Records the measurements of one of a server's counters, by two of their tags.</summary>
public static class CounterTags
{
    /// <summary>
    /// Records each measurement of <paramref name="instrument"/> of <paramref name="server"/> only (other tests run
    /// servers beside it) as the values of tags <paramref name="first"/> and <paramref name="second"/>.
    /// </summary>
    public static MeterListener Record(TestServer server, string instrument, string first, string second, ConcurrentQueue<(string, string)> into)
    {
        var factory = server.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (published, l) =>
            {
                if (published.Name == instrument && ReferenceEquals(published.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? a = null, b = null;
            foreach (var tag in tags)
            {
                if (tag.Key == first) a = tag.Value as string;
                if (tag.Key == second) b = tag.Value as string;
            }
            into.Enqueue((a!, b!));
        });
        listener.Start();
        return listener;
    }
}
