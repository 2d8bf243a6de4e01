using System.Text.Json.Serialization;

namespace Halley.LoadTest.Workers;

/// <summary>A command from the coordinator to a worker: one JSON line on the worker's stdin.</summary>
public sealed class WorkerCommand
{
    /// <summary><c>open</c>, <c>stats</c>, <c>histogram</c>, <c>reset</c> or <c>stop</c>.</summary>
    public string Cmd { get; set; } = "";
    public int Seq { get; set; }

    // open: connections [FirstIndex, FirstIndex + Count) of the whole run.
    public string? Protocol { get; set; }
    public string? Url { get; set; }
    public int Count { get; set; }
    public int FirstIndex { get; set; }
    public int Rooms { get; set; } = 1;
    public int RoomsPerClient { get; set; } = 1;
    public string ChannelPrefix { get; set; } = "/loadtest/room/";
    public int Seed { get; set; }
    public int Concurrency { get; set; } = 64;
    public bool RecordLatency { get; set; }

    // histogram: also clear it after reading.
    public bool Reset { get; set; }
}

/// <summary>A worker's answer: one JSON line on its stdout, carrying the command's <see cref="Seq"/>.</summary>
public sealed class WorkerReply
{
    /// <summary><c>ready</c>, <c>opened</c>, <c>stats</c>, <c>histogram</c>, <c>ok</c> or <c>error</c>.</summary>
    public string Type { get; set; } = "";
    public int Seq { get; set; }
    public int Opened { get; set; }
    public int Failed { get; set; }
    public int Dropped { get; set; }
    public long Received { get; set; }
    /// <summary>Frames that carried messages (see <see cref="Protocols.IPushProtocol.CreateConnection"/>).</summary>
    public long Frames { get; set; }
    /// <summary>Those frames by messages per frame, in the buckets of <see cref="WorkerHost.FrameBucketNames"/>.</summary>
    public long[]? FrameBuckets { get; set; }
    public int ConnectionsWithMessages { get; set; }
    public long WorkingSet { get; set; }
    /// <summary>Latency histogram in microseconds as raw sparse counts: value, count, value, count, …</summary>
    public long[]? Histogram { get; set; }
    public string? FirstError { get; set; }
    public string? FirstDropReason { get; set; }
    public string? Message { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerCommand))]
[JsonSerializable(typeof(WorkerReply))]
internal sealed partial class WorkerJson : JsonSerializerContext;
