namespace Halley.Server.Samples;

/// <summary>
/// <c>Halley:Samples</c>: the samples of <c>halley serve</c> (docs/samples.md). The library reads none of it.
/// </summary>
public sealed class SamplesOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Halley:Samples";

    /// <summary>
    /// Whether <c>halley serve</c> has the samples: their pages under <c>/samples/</c> and the start page's links to
    /// them, the chat's history service and its rooms' history rule, and the ticker's feed (when
    /// <see cref="Ticker.TickerOptions.Enabled"/> too). Default true.
    /// </summary>
    public bool Enabled { get; set; } = true;
}
