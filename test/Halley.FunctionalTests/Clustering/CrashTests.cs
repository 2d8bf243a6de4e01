using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Client;
using Halley.FunctionalTests.Infrastructure;
using Halley.FunctionalTests.Proxy;
using Halley.Testing;

namespace Halley.FunctionalTests.Clustering;

/// <summary>
/// Issue 11's crash test, with real processes: three nodes (<c>Halley.Server.dll serve</c>, each its own process) on
/// one redis-server, behind a real nginx that balances round robin with no stickiness; 300 clients through nginx —
/// Bayeux WebSocket clients (Halley's .NET client) and <c>/sse</c> streams, exact and wildcard subscriptions — while
/// numbered messages are published through nginx (so on every node). One node is killed with SIGKILL mid-stream and
/// started again. At the end every client has every message of its channels exactly once, in order per channel.
/// </summary>
/// <remarks>
/// Long-polling is not in it: sessions are still node-local, so a long-polling client needs a sticky balancer
/// (docs/clustering.md). WebSocket and SSE clients whose node died reconnect to another and resume from their position.
/// </remarks>
public sealed class CrashTests : IAsyncLifetime
{
    private const int WebSocketClients = 200;
    private const int StreamClients = 100;
    private const int MessagesPerChannel = 300;
    private const string ApiKey = "crash-test-key";
    private static readonly string[] Channels = ["/crash/a", "/crash/b"];
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private RedisServer _redis = null!;
    private readonly List<NodeProcess> _nodes = [];
    private Nginx _nginx = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        string[] settings =
        [
            $"Halley:Redis:Configuration=127.0.0.1:{_redis.Port}", "Halley:History:Channels:/crash/**:Size=10000",
            $"Halley:Api:Key={ApiKey}", "Halley:Samples:Enabled=false",
        ];
        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(await NodeProcess.StartAsync(settings));
        }
        var servers = string.Concat(_nodes.Select(n => $"server 127.0.0.1:{n.Port} max_fails=0;\n    "));
        _nginx = await Nginx.StartAsync(new Uri($"http://127.0.0.1:{_nodes[0].Port}"), config => config.Replace($"server 127.0.0.1:{_nodes[0].Port};", servers, StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _nginx.DisposeAsync();
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task ANodeKilledMidStream_EveryClientHasEveryMessage_ExactlyOnce_InOrder()
    {
        using var stop = new CancellationTokenSource();
        var clients = new List<Received>();
        var webSockets = new List<BayeuxClient>();
        var streams = new List<Task>();
        var webSocketsCut = 0;
        var streamsReopened = new StrongBox<int>();
        try
        {
            for (var i = 0; i < WebSocketClients; i++)
            {
                var pattern = SubscriptionOf(i);
                var received = new Received($"websocket {i} {pattern}", ChannelsOf(pattern));
                var client = new BayeuxClient(new BayeuxClientOptions { Endpoint = new Uri(_nginx.BaseAddress, "/cometd"), MaxBackoff = TimeSpan.FromSeconds(1) });
                webSockets.Add(client);
                await client.ConnectAsync().WaitAsync(Wait);
                client.StateChanged += (_, e) =>
                {
                    if (e.State == BayeuxClientState.Reconnecting)
                    {
                        Interlocked.Increment(ref webSocketsCut);
                    }
                };
                await client.SubscribeAsync(pattern, m => received.Add(m.Channel, m.Data.GetProperty("n").GetInt32())).WaitAsync(Wait);
                clients.Add(received);
            }
            using var http = new HttpClient { BaseAddress = _nginx.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            for (var i = 0; i < StreamClients; i++)
            {
                var pattern = SubscriptionOf(i);
                var received = new Received($"sse {i} {pattern}", ChannelsOf(pattern));
                var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                streams.Add(ReadStreamAsync(http, pattern, received, opened, streamsReopened, stop.Token));
                await opened.Task.WaitAsync(Wait);
                clients.Add(received);
            }

            // Numbered messages through nginx (so on every node in turn), each retried with its idempotency key until
            // a node accepts it: the killed node's requests fail and go to another, never twice.
            var published = 0;
            var publisher = Task.Run(async () =>
            {
                for (var n = 0; n < MessagesPerChannel; n++)
                {
                    foreach (var channel in Channels)
                    {
                        await PublishAsync(http, channel, n);
                    }
                    Interlocked.Increment(ref published);
                }
            });
            await Until(() => Volatile.Read(ref published) >= MessagesPerChannel / 3, "a third of the messages published");
            _nodes[1].Crash();
            await Until(() => Volatile.Read(ref published) >= 2 * MessagesPerChannel / 3, "two thirds of the messages published");
            await _nodes[1].StartAgainAsync();
            await publisher.WaitAsync(Wait);

            await Until(() => clients.All(c => c.IsComplete(MessagesPerChannel)), "every client to have every message", () => string.Join("\n", clients.Where(c => !c.IsComplete(MessagesPerChannel)).Take(5).Select(c => c.Describe())));
            foreach (var client in clients)
            {
                client.AssertExactlyOnceInOrder(MessagesPerChannel);
            }
            // The crash really cut clients off (round robin put about a third of them on the killed node).
            Assert.True(webSocketsCut > 0, "No WebSocket client lost its connection: the crash tested nothing.");
            Assert.True(Volatile.Read(ref streamsReopened.Value) > 0, "No stream was opened again: the crash tested nothing.");
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var client in webSockets)
            {
                await client.DisposeAsync();
            }
            await Task.WhenAll(streams).WaitAsync(Wait).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static string SubscriptionOf(int i) => (i % 3) switch { 0 => "/crash/a", 1 => "/crash/b", _ => "/crash/*" };

    private static string[] ChannelsOf(string pattern) => pattern == "/crash/*" ? Channels : [pattern];

    private static async Task PublishAsync(HttpClient http, string channel, int n)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{channel} #{n} could not be published.");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/publish")
            {
                Content = new StringContent(new JsonObject { ["channel"] = channel, ["data"] = new JsonObject { ["n"] = n } }.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            request.Headers.Add("Idempotency-Key", $"{channel}#{n}");
            try
            {
                using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await http.SendAsync(request, cancel.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The node died under the request: another one takes the retry.
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Reads one <c>/sse</c> stream, and, when it ends (its node died), opens it again with <c>Last-Event-ID</c>.</summary>
    private static async Task ReadStreamAsync(HttpClient http, string pattern, Received received, TaskCompletionSource opened, StrongBox<int> reopened, CancellationToken stop)
    {
        string? lastEventId = null;
        for (var attempt = 0; !stop.IsCancellationRequested; attempt++)
        {
            if (attempt > 0)
            {
                Interlocked.Increment(ref reopened.Value);
            }
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/sse?channel={pattern}");
                if (lastEventId is not null)
                {
                    request.Headers.Add("Last-Event-ID", lastEventId);
                }
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
                if (!response.IsSuccessStatusCode)
                {
                    await Task.Delay(100, stop);
                    continue;
                }
                opened.TrySetResult();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
                string? id = null;
                while (await reader.ReadLineAsync(stop) is { } line)
                {
                    if (line.StartsWith("id:", StringComparison.Ordinal))
                    {
                        id = line[3..].Trim();
                    }
                    else if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        using var json = JsonDocument.Parse(line[5..]);
                        if (json.RootElement.TryGetProperty("channel", out var channel) && json.RootElement.TryGetProperty("data", out var data)
                            && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("n", out var n))
                        {
                            received.Add(channel.GetString()!, n.GetInt32());
                            lastEventId = id ?? lastEventId;
                        }
                    }
                    else if (line.Length == 0)
                    {
                        id = null;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                // The node died: open the stream again through nginx, from the last event.
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task Until(Func<bool> condition, string what, Func<string>? explain = null)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}. {explain?.Invoke()}");
            await Task.Delay(50);
        }
    }

    /// <summary>What one client received, per channel, in arrival order.</summary>
    private sealed class Received(string name, string[] channels)
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _byChannel = new(channels.Select(c => KeyValuePair.Create(c, new ConcurrentQueue<int>())));

        private readonly ConcurrentQueue<string> _unexpected = new();

        public void Add(string channel, int n)
        {
            // Called on the client's threads: recorded, and judged by the test's own thread at the end.
            if (_byChannel.TryGetValue(channel, out var numbers))
            {
                numbers.Enqueue(n);
            }
            else
            {
                _unexpected.Enqueue(channel);
            }
        }

        public bool IsComplete(int count) => _byChannel.Values.All(q => q.Count >= count);

        public string Describe() => $"{name}: " + string.Join(", ", _byChannel.Select(e => $"{e.Key} {e.Value.Count}"));

        public void AssertExactlyOnceInOrder(int count)
        {
            Assert.True(_unexpected.IsEmpty, $"{name} received channels it did not subscribe to: {string.Join(", ", _unexpected)}");
            foreach (var (channel, numbers) in _byChannel)
            {
                Assert.True(Enumerable.Range(0, count).SequenceEqual(numbers), $"{name} on {channel}: {string.Join(",", numbers)}");
            }
        }
    }
}
