using ScottPlot;

namespace Halley.BenchReport;

/// <summary>The PNG charts of a report (ScottPlot). Each method writes one file and returns its path, or null with no data.</summary>
public static class Charts
{
    private const int Width = 960;
    private const int Height = 540;

    /// <summary>A fixed colour per target, so the same target has the same colour in every chart.</summary>
    public static Color ColorOf(string target) => target switch
    {
        "halley-ws" => Color.FromHex("#1f77b4"),
        "halley-lp" => Color.FromHex("#17becf"),
        "signalr" => Color.FromHex("#d62728"),
        "kestrel-ws" => Color.FromHex("#7f7f7f"),
        "faye-ws" => Color.FromHex("#ff7f0e"),
        "faye-lp" => Color.FromHex("#bcbd22"),
        "pushpin" => Color.FromHex("#9467bd"),
        _ => Color.FromHex("#2ca02c"),
    };

    /// <summary>Lines of (x, y) points, one per series, with markers.</summary>
    public static string? Lines(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<(string Target, string Legend, double[] X, double[] Y)> series)
    {
        if (series.All(s => s.X.Length == 0))
        {
            return null;
        }
        var plot = new Plot();
        foreach (var (target, legend, xs, ys) in series.Where(s => s.X.Length > 0))
        {
            var scatter = plot.Add.Scatter(xs, ys, ColorOf(target));
            scatter.LegendText = legend;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 8;
        }
        Decorate(plot, title, xLabel, yLabel);
        plot.Axes.Margins(left: 0.05, right: 0.05, bottom: 0, top: 0.1);
        plot.Axes.AutoScale();
        // From zero, so the chart does not exaggerate differences.
        plot.Axes.SetLimitsY(0, plot.Axes.GetLimits().Top * 1.05);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
        return path;
    }

    /// <summary>One bar per target, labelled with its value.</summary>
    public static string? Bars(string path, string title, string yLabel,
        IReadOnlyList<(string Target, string Label, double Value)> bars, string valueFormat)
    {
        if (bars.Count == 0)
        {
            return null;
        }
        var plot = new Plot();
        var list = new List<Bar>();
        for (var i = 0; i < bars.Count; i++)
        {
            list.Add(new Bar
            {
                Position = i,
                Value = bars[i].Value,
                FillColor = ColorOf(bars[i].Target),
                Label = bars[i].Value.ToString(valueFormat, System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        var barPlot = plot.Add.Bars(list);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, bars.Count).Select(i => (double)i)], [.. bars.Select(b => b.Label)]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        Decorate(plot, title, "", yLabel);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.SavePng(path, Width, Height);
        return path;
    }

    /// <summary>Groups of bars: one group per target, one bar per series (e.g. latency percentiles), with a legend.</summary>
    public static string? GroupedBars(string path, string title, string yLabel, IReadOnlyList<string> targets,
        IReadOnlyList<(string Series, double[] Values)> series, bool logScale = false)
    {
        if (targets.Count == 0 || series.Count == 0)
        {
            return null;
        }
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groupWidth = 0.8;
        var barWidth = groupWidth / series.Count;
        var list = new List<Bar>();
        for (var s = 0; s < series.Count; s++)
        {
            var color = palette.GetColor(s);
            for (var t = 0; t < targets.Count; t++)
            {
                var v = series[s].Values[t];
                if (double.IsNaN(v))
                {
                    continue;
                }
                list.Add(new Bar
                {
                    Position = t - groupWidth / 2 + barWidth * (s + 0.5),
                    Value = logScale ? Math.Log10(Math.Max(v, 0.001)) : v,
                    ValueBase = logScale ? Math.Log10(0.001) : 0,
                    Size = barWidth * 0.95,
                    FillColor = color,
                    Label = v.ToString(v >= 100 ? "F0" : "0.##", System.Globalization.CultureInfo.InvariantCulture),
                });
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Series, FillColor = color });
        }
        var barPlot = plot.Add.Bars(list);
        barPlot.ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, targets.Count).Select(i => (double)i)], [.. targets]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (logScale)
        {
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
            };
            plot.Axes.Left.TickGenerator = ticks;
        }
        Decorate(plot, title, "", yLabel + (logScale ? " (log scale)" : ""));
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static void Decorate(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Font.Set("DejaVu Sans");
        plot.Title(title, size: 18);
        if (xLabel.Length > 0)
        {
            plot.XLabel(xLabel, size: 15);
        }
        plot.YLabel(yLabel, size: 15);
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 13;
    }
}
