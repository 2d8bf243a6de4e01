using System.Text.Json.Serialization;

namespace Halley.Server.Samples.Ticker;

/// <summary>
/// The simulated market: a handful of made-up symbols whose prices take a geometric random walk (each step
/// multiplies the price by <c>exp(σ·z)</c>, z standard normal), so prices stay positive and move by a similar
/// fraction whatever their level, as real quotes do. Not thread-safe: the feed's single loop owns it.
/// </summary>
internal sealed class PriceWalk(Random random)
{
    /// <summary>The symbols and their opening prices.</summary>
    internal static readonly (string Symbol, double Open)[] Listings =
    [
        ("HALY", 142.50), ("CMTD", 87.20), ("FAYE", 23.75), ("BAYX", 310.00), ("PUSH", 56.40),
        ("POLL", 12.85), ("SSE", 198.30), ("WSKT", 74.10), ("RDIS", 45.60), ("KSTL", 129.90),
    ];

    // A step's standard deviation: 0.1 % of the price, small enough that a few updates a second look like a quote.
    private const double Volatility = 0.001;

    private readonly double[] _open = [.. Listings.Select(l => l.Open)];
    private readonly double[] _price = [.. Listings.Select(l => l.Open)];

    /// <summary>Moves one symbol, picked at random, and returns its new quote.</summary>
    public Quote Step()
    {
        var i = random.Next(_price.Length);
        var before = _price[i];
        var after = Math.Round(before * Math.Exp(Volatility * NextGaussian()), 2);
        // Rounding to cents could pin a cheap symbol in place or take it to zero; a quote always moves and stays positive.
        if (after == before)
        {
            after = Math.Round(before + (random.Next(2) == 0 ? -0.01 : 0.01), 2);
        }
        _price[i] = Math.Max(0.01, after);
        return new Quote(
            Listings[i].Symbol,
            _price[i],
            Math.Round(_price[i] - before, 2),
            Math.Round((_price[i] - _open[i]) / _open[i] * 100, 2));
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    private double NextGaussian()
    {
        var u1 = 1.0 - random.NextDouble(); // in (0, 1]: Log(0) would be infinite
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>One price update, as published on <c>/samples/ticker/{symbol}</c>.</summary>
/// <param name="Symbol">The symbol.</param>
/// <param name="Price">The new price.</param>
/// <param name="Change">The move from the previous price.</param>
/// <param name="ChangePercent">The move since the open, in percent.</param>
internal sealed record Quote(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("price")] double Price,
    [property: JsonPropertyName("change")] double Change,
    [property: JsonPropertyName("changePercent")] double ChangePercent);
