using System.ComponentModel.DataAnnotations;

namespace Halley.Server.Samples.Ticker;

/// <summary>
/// <c>Halley:Samples:Ticker</c>: the simulated price feed behind the ticker sample of <c>halley serve</c>
/// (<c>/samples/ticker/</c>). The library registers no feed; only the executable does.
/// </summary>
public sealed class TickerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Halley:Samples:Ticker";

    /// <summary>Whether the feed publishes. Default true: <c>halley serve</c> shows a live ticker out of the box.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Price updates published per second, over all symbols together (1 to 10,000; default 20).</summary>
    [Range(1, 10_000)]
    public int UpdatesPerSecond { get; set; } = 20;
}
