using System.CommandLine;
using System.Globalization;
using Halley.LoadTest;
using Halley.LoadTest.Protocols;
using Halley.LoadTest.Reporting;
using Halley.LoadTest.Scenarios;
using Halley.LoadTest.Workers;

var protocol = new Option<string?>("--protocol") { Description = $"Protocol: {string.Join(", ", ProtocolRegistry.Names)} (default halley-ws; rooms: halley-lp)" };
var url = new Option<string>("--url") { Description = "Target endpoint, whole (http://127.0.0.1:PORT/cometd, …/faye); loopback only", DefaultValueFactory = _ => "http://127.0.0.1:8080/cometd" };
var scenario = new Option<string>("--scenario") { Description = "idle | fanout | latency | rooms", DefaultValueFactory = _ => "idle" };
var connections = new Option<int?>("--connections") { Description = "Subscriber connections (default 1000; idle: the last step)" };
var workers = new Option<int?>("--workers") { Description = "Worker processes (default ceil(connections / 4000))" };
var duration = new Option<int>("--duration") { Description = "Publishing time in seconds (fanout, latency, rooms)", DefaultValueFactory = _ => 10 };
var rate = new Option<double?>("--rate") { Description = "Publishes per second (latency: default 10; rooms: default 0 = as fast as --in-flight allows)" };
var payloadBytes = new Option<int>("--payload-bytes") { Description = "Size of each published payload", DefaultValueFactory = _ => 50 };
var rooms = new Option<int>("--rooms") { Description = "Rooms (idle: connections are dealt round robin; rooms: random)", DefaultValueFactory = _ => 100 };
var roomsPerClient = new Option<int>("--rooms-per-client") { Description = "Rooms each client joins (rooms scenario)", DefaultValueFactory = _ => 10 };
var steps = new Option<string?>("--steps") { Description = "idle: connection counts to measure at, e.g. 1000,5000,10000,19000" };
var serverPid = new Option<int?>("--server-pid") { Description = "The server's pid, for its RSS (/proc/<pid>/status VmRSS)" };
var output = new Option<string?>("--out") { Description = "Write the JSON result to this file" };
var label = new Option<string?>("--label") { Description = "A label for the result (default: protocol-scenario)" };
var publishVia = new Option<string?>("--publish-via") { Description = "http: backends POSTing to the server's HTTP publish endpoint, each awaiting its answer before the next; session: the protocol's own client, --in-flight at once (default: fanout, latency: http; idle, rooms: session)" };
var publishers = new Option<int?>("--publishers") { Description = "Publishers: HTTP backends, or sessions that publishes go round robin over (default 1; rooms: 4)" };
var inFlight = new Option<int?>("--in-flight") { Description = "--publish-via session: publishes awaiting their reply at once, over all publishers (default 16)" };
var channels = new Option<int>("--channels") { Description = "fanout: channels; subscribers are dealt round robin over them, publishes go round robin over them", DefaultValueFactory = _ => 1 };
var openConcurrency = new Option<int>("--open-concurrency") { Description = "Connections each worker opens at once", DefaultValueFactory = _ => 64 };
var seed = new Option<int>("--seed") { Description = "Seed for room choice", DefaultValueFactory = _ => 42 };

var run = new Command("run", "Run a scenario against a server (the coordinator)")
{
    protocol, url, scenario, connections, workers, duration, rate, payloadBytes, rooms, roomsPerClient, steps, serverPid,
    output, label, publishVia, publishers, inFlight, channels, openConcurrency, seed,
};
run.SetAction(async (parse, ct) =>
{
    var name = parse.GetValue(scenario)!.ToLowerInvariant();
    if (!RunSettings.Scenarios.Contains(name))
    {
        Console.Error.WriteLine($"Unknown scenario '{name}'. Known: {string.Join(", ", RunSettings.Scenarios)}.");
        return 2;
    }
    var protocolName = parse.GetValue(protocol) ?? (name == "rooms" ? "halley-lp" : "halley-ws");
    if (!ProtocolRegistry.Contains(protocolName))
    {
        Console.Error.WriteLine($"Unknown protocol '{protocolName}'. Known: {string.Join(", ", ProtocolRegistry.Names)}.");
        return 2;
    }
    var target = parse.GetValue(url)!;
    if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || !(uri.IsLoopback && uri.Host is "127.0.0.1" or "localhost" or "[::1]"))
    {
        Console.Error.WriteLine($"--url must be an absolute loopback URL (127.0.0.1): '{target}'.");
        return 2;
    }
    int[] stepList;
    try
    {
        stepList = [.. (parse.GetValue(steps) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Where(s => s > 0).Order()];
    }
    catch (FormatException)
    {
        Console.Error.WriteLine("--steps is a comma-separated list of connection counts.");
        return 2;
    }
    var count = parse.GetValue(connections) ?? (name == "idle" && stepList.Length > 0 ? stepList[^1] : 1000);
    if (name == "idle" && stepList.Length == 0)
    {
        stepList = [count];
    }
    if (name == "idle")
    {
        count = stepList[^1];
    }
    var via = (parse.GetValue(publishVia) ?? (name is "fanout" or "latency" ? "http" : "session")).ToLowerInvariant();
    if (!RunSettings.PublishModes.Contains(via))
    {
        Console.Error.WriteLine($"Unknown --publish-via '{via}'. Known: {string.Join(", ", RunSettings.PublishModes)}.");
        return 2;
    }
    if (via == "http" && parse.GetValue(inFlight) is not null)
    {
        Console.Error.WriteLine("--in-flight applies to --publish-via session; an HTTP publisher has one request in flight (use --publishers).");
        return 2;
    }
    if (parse.GetValue(channels) > 1 && name != "fanout")
    {
        Console.Error.WriteLine("--channels applies to the fanout scenario (idle and rooms use --rooms).");
        return 2;
    }
    var publisherCount = Math.Max(1, parse.GetValue(publishers) ?? (name == "rooms" ? 4 : 1));
    var settings = new RunSettings
    {
        Protocol = protocolName,
        Url = uri.ToString(),
        Scenario = name,
        Connections = count,
        Workers = Math.Max(1, parse.GetValue(workers) ?? (int)Math.Ceiling(count / 4000.0)),
        Duration = Math.Max(1, parse.GetValue(duration)),
        Rate = Math.Max(0, parse.GetValue(rate) ?? (name == "rooms" ? 0 : 10)),
        PayloadBytes = Math.Max(0, parse.GetValue(payloadBytes)),
        Rooms = Math.Max(1, parse.GetValue(rooms)),
        RoomsPerClient = Math.Max(1, parse.GetValue(roomsPerClient)),
        Steps = stepList,
        ServerPid = parse.GetValue(serverPid),
        Out = parse.GetValue(output),
        Label = parse.GetValue(label) ?? $"{protocolName}-{name}",
        PublishVia = via,
        Publishers = publisherCount,
        InFlight = via == "http" ? publisherCount : Math.Max(1, parse.GetValue(inFlight) ?? 16),
        Channels = Math.Max(1, parse.GetValue(channels)),
        OpenConcurrency = Math.Max(1, parse.GetValue(openConcurrency)),
        Seed = parse.GetValue(seed),
    };
    return await RunCommand.ExecuteAsync(settings, ct);
});

var maxSeconds = new Option<int>("--max-seconds") { Description = "Exit after this long whatever happens", DefaultValueFactory = _ => 3600 };
var worker = new Command("worker", "Internal: a worker process started by `run`; speaks JSON lines on stdin/stdout") { maxSeconds };
worker.Hidden = true;
worker.SetAction(async (parse, ct) => await new WorkerHost().RunAsync(parse.GetValue(maxSeconds)));

var root = new RootCommand("Halley's load generator: idle capacity, fan-out throughput, latency and CometD's rooms benchmark")
{
    run, worker,
};
return await root.Parse(args).InvokeAsync();
