namespace Halley.LoadTest;

/// <summary>The options of one <c>run</c>, resolved (scenario-dependent defaults applied).</summary>
public sealed record RunSettings
{
    public required string Protocol { get; init; }
    public required string Url { get; init; }
    public required string Scenario { get; init; }
    public required int Connections { get; init; }
    public required int Workers { get; init; }
    public required int Duration { get; init; }
    public required double Rate { get; init; }
    public required int PayloadBytes { get; init; }
    public required int Rooms { get; init; }
    public required int RoomsPerClient { get; init; }
    public required int[] Steps { get; init; }
    public int? ServerPid { get; init; }
    public string? Out { get; init; }
    public required string Label { get; init; }
    public required int Publishers { get; init; }
    public required int InFlight { get; init; }
    public required int OpenConcurrency { get; init; }
    public required int Seed { get; init; }

    /// <summary>The four scenarios.</summary>
    public static readonly string[] Scenarios = ["idle", "fanout", "latency", "rooms"];
}
