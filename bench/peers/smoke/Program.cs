using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Halley.LoadTest.Protocols;

// Usage: dotnet PeerSmoke.dll PROTOCOL URL [SUBSCRIBERS=100] [PUBLISHES=100] [IDLE_SECONDS=0]
// PROTOCOL: signalr | kestrel-ws. Subscribes SUBSCRIBERS connections to /room/1, publishes PUBLISHES messages
// (concurrently, 8 at a time) and waits up to 30 s for every one to reach every subscriber.
// Prints "delivered/expected" and exits 0 only when all arrived with the right payloads.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: PeerSmoke PROTOCOL URL [SUBSCRIBERS] [PUBLISHES]");
    return 2;
}

IPushProtocol protocol = args[0] switch
{
    "signalr" => new SignalRProtocol(),
    "kestrel-ws" or "pushpin" => new PlainWebSocketProtocol(),
    _ => throw new ArgumentException("unknown protocol " + args[0]),
};
var target = new Uri(args[1]);
var subscribers = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100;
var publishes = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 100;
var idleSeconds = args.Length > 4 ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 0;
const string Channel = "/room/1";

var expected = (long)subscribers * publishes;
long delivered = 0;
long malformed = 0;
var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var seen = new int[publishes];

void OnMessage(ReadOnlyMemory<byte> payload)
{
    // Payloads are {"n":K,"text":"héllo /room/1"}; a server may re-encode them (SignalR escapes non-ASCII), so compare values.
    int n;
    try
    {
        using var json = JsonDocument.Parse(payload);
        n = json.RootElement.GetProperty("n").GetInt32();
        if (n < 0 || n >= publishes || json.RootElement.GetProperty("text").GetString() != "héllo /room/1")
        {
            Interlocked.Increment(ref malformed);
            return;
        }
    }
    catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
    {
        Interlocked.Increment(ref malformed);
        return;
    }

    Interlocked.Increment(ref seen[n]);
    if (Interlocked.Increment(ref delivered) == expected)
    {
        done.TrySetResult();
    }
}

using var overall = new CancellationTokenSource(TimeSpan.FromSeconds(60 + idleSeconds));
var clock = Stopwatch.StartNew();
var connections = new IPushConnection[subscribers];
for (var i = 0; i < subscribers; i++)
{
    connections[i] = protocol.CreateConnection(target, OnMessage);
}

// Connect and subscribe, 20 at a time.
using (var gate = new SemaphoreSlim(20))
{
    await Task.WhenAll(connections.Select(async c =>
    {
        await gate.WaitAsync(overall.Token);
        try
        {
            await c.ConnectAsync(overall.Token);
            await c.SubscribeAsync(Channel, overall.Token);
        }
        finally
        {
            gate.Release();
        }
    }));
}

Console.WriteLine($"{protocol.Name}: {subscribers} subscribed in {clock.ElapsedMilliseconds} ms");
if (idleSeconds > 0)
{
    // Idle connections must survive the server's timeouts (SignalR drops a silent client after 30 s).
    Console.WriteLine($"{protocol.Name}: idle for {idleSeconds} s");
    await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
}

clock.Restart();

var publisher = protocol.CreatePublisher(target);
using (var gate = new SemaphoreSlim(8))
{
    await Task.WhenAll(Enumerable.Range(0, publishes).Select(async n =>
    {
        await gate.WaitAsync(overall.Token);
        try
        {
            var payload = Encoding.UTF8.GetBytes($"{{\"n\":{n},\"text\":\"héllo /room/1\"}}");
            await publisher.PublishAsync(Channel, payload, overall.Token);
        }
        finally
        {
            gate.Release();
        }
    }));
}

var publishMs = clock.ElapsedMilliseconds;
await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30)));
var allMs = clock.ElapsedMilliseconds;
await publisher.DisposeAsync();
await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));

var complete = seen.All(s => s == subscribers);
Console.WriteLine($"{protocol.Name}: published {publishes} in {publishMs} ms, all delivered after {allMs} ms");
Console.WriteLine($"{protocol.Name}: delivered {Interlocked.Read(ref delivered)}/{expected}, malformed {Interlocked.Read(ref malformed)}, every message to every subscriber: {complete}");
return complete && Interlocked.Read(ref delivered) == expected && Interlocked.Read(ref malformed) == 0 ? 0 : 1;
