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
    /// <summary><c>http</c>: each publisher is a backend POSTing to the server's HTTP publish endpoint, one request at a time; <c>session</c>: the protocol's own client, <see cref="InFlight"/> publishes at once.</summary>
    public required string PublishVia { get; init; }
    public required int Publishers { get; init; }
    /// <summary>Publishes awaiting their answer at once: <c>--in-flight</c> over sessions; with <c>http</c>, one per publisher.</summary>
    public required int InFlight { get; init; }
    /// <summary>fanout: channels the subscribers are dealt over, round robin; publishes go round robin over them too.</summary>
    public required int Channels { get; init; }
    public required int OpenConcurrency { get; init; }
    public required int Seed { get; init; }

    /// <summary>The four scenarios.</summary>
    public static readonly string[] Scenarios = ["idle", "fanout", "latency", "rooms"];

    /// <summary>The ways to publish (<c>--publish-via</c>).</summary>
    public static readonly string[] PublishModes = ["http", "session"];

    public bool PublishesOverHttp => PublishVia == "http";
}
