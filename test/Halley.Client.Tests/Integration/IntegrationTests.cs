using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace Halley.Client.Tests.Integration;

/// <summary>One suite, run once per transport against the real server.</summary>
public abstract class IntegrationTests(HalleyServerFixture fixture, BayeuxTransport transport) : IAsyncLifetime
{
    private readonly List<BayeuxClient> _clients = [];
    private readonly List<HalleyServerProcess> _servers = [];

    // A fresh channel root per test, so tests sharing the server never see each other's messages.
    protected string Root { get; } = "/t" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WithTimeout();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Connects()
    {
        var client = await ConnectAsync();

        Assert.Equal(BayeuxClientState.Connected, client.State);
        Assert.Matches("^[0-9a-f]{32}$", client.ClientId);
    }

    [Fact]
    public async Task PublishedMessageReachesSubscribersIncludingThePublisher()
    {
        var subscriber = await ConnectAsync();
        var publisher = await ConnectAsync();
        var atSubscriber = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var atPublisher = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.SubscribeAsync($"{Root}/chat", m => atSubscriber.TrySetResult(m), TestTimeouts.Token());
        await publisher.SubscribeAsync($"{Root}/chat", m => atPublisher.TrySetResult(m), TestTimeouts.Token());

        await publisher.PublishAsync($"{Root}/chat", new { Text = "hello", N = 1 }, TestTimeouts.Token());

        var received = await atSubscriber.Task.WithTimeout();
        Assert.Equal($"{Root}/chat", received.Channel);
        Assert.Equal("hello", received.Data.GetProperty("text").GetString());
        Assert.Equal(1, (await atPublisher.Task.WithTimeout()).Data.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task JsonElementDataRoundTrips()
    {
        var client = await ConnectAsync();
        var got = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync($"{Root}/raw", m => got.TrySetResult(m), TestTimeouts.Token());
        using var document = JsonDocument.Parse("""{"a":[1,"two",{"three":3.5}],"b":null,"c":true}""");

        await client.PublishAsync($"{Root}/raw", document.RootElement, TestTimeouts.Token());

        var data = (await got.Task.WithTimeout()).Data;
        Assert.True(JsonElement.DeepEquals(document.RootElement, data), data.GetRawText());
    }

    [Theory]
    [InlineData("/a", new[] { "/a" })]
    [InlineData("/*", new[] { "/a", "/b" })]
    [InlineData("/**", new[] { "/a", "/b", "/a/deep", "/a/deep/er" })]
    [InlineData("/a/*", new[] { "/a/deep" })]
    [InlineData("/a/**", new[] { "/a/deep", "/a/deep/er" })]
    public async Task SubscriptionsMatchExactAndWildcardChannels(string pattern, string[] expected)
    {
        var subscriber = await ConnectAsync();
        var publisher = await ConnectAsync();
        var received = new ConcurrentQueue<string>();
        var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.SubscribeAsync(Root + pattern, m => received.Enqueue(m.Channel[Root.Length..]), TestTimeouts.Token());
        await subscriber.SubscribeAsync(Root + "-end", _ => end.TrySetResult(), TestTimeouts.Token());

        foreach (var channel in new[] { "/a", "/b", "/a/deep", "/a/deep/er" })
        {
            await publisher.PublishAsync(Root + channel, channel, TestTimeouts.Token());
        }

        // Published last by the same publisher: once it arrives, everything before it has.
        await publisher.PublishAsync(Root + "-end", 0, TestTimeouts.Token());
        await end.Task.WithTimeout();

        Assert.Equal(expected, received.ToArray());
    }

    [Fact]
    public async Task HundredMessagesArriveInOrder()
    {
        var subscriber = await ConnectAsync();
        var publisher = await ConnectAsync();
        var received = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.SubscribeAsync($"{Root}/ticks", m =>
        {
            received.Add(m.Data.GetInt32());
            if (received.Count == 100)
            {
                done.TrySetResult();
            }
        }, TestTimeouts.Token());

        for (var i = 0; i < 100; i++)
        {
            await publisher.PublishAsync($"{Root}/ticks", i, TestTimeouts.Token());
        }

        await done.Task.WithTimeout();
        Assert.Equal(Enumerable.Range(0, 100), received);
    }

    [Fact]
    public async Task HundredConcurrentPublishesAllArrive()
    {
        var client = await ConnectAsync();
        var received = new ConcurrentDictionary<int, byte>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync($"{Root}/burst", m =>
        {
            received[m.Data.GetInt32()] = 0;
            if (received.Count == 100)
            {
                done.TrySetResult();
            }
        }, TestTimeouts.Token());

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => client.PublishAsync($"{Root}/burst", i, TestTimeouts.Token()))).WithTimeout();

        await done.Task.WithTimeout();
    }

    [Fact]
    public async Task ServiceCallReturnsTheRepliesData()
    {
        var client = await ConnectAsync();

        var echoed = await client.CallAsync("/service/echo", new { Question = 42, Items = new[] { "x", "y" } }, TestTimeouts.Token());

        Assert.Equal(42, echoed.GetProperty("question").GetInt32());
        Assert.Equal("y", echoed.GetProperty("items")[1].GetString());
    }

    [Fact]
    public async Task ServerRefusalIsABayeuxExceptionWithTheServersError()
    {
        var client = await ConnectAsync();

        var error = await Assert.ThrowsAsync<BayeuxException>(() => client.SubscribeAsync("/service/echo", _ => { }, TestTimeouts.Token()));

        Assert.Equal(403, error.ErrorCode);
        Assert.NotNull(error.Error);
        Assert.Equal(BayeuxClientState.Connected, client.State);
    }

    [Fact]
    public async Task UnsubscribeStopsDelivery()
    {
        var subscriber = await ConnectAsync();
        var publisher = await ConnectAsync();
        var unsubscribedGot = new ConcurrentQueue<int>();
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await subscriber.SubscribeAsync($"{Root}/news", m =>
        {
            unsubscribedGot.Enqueue(m.Data.GetInt32());
            first.TrySetResult();
        }, TestTimeouts.Token());
        await subscriber.SubscribeAsync($"{Root}/marker", _ => marker.TrySetResult(), TestTimeouts.Token());
        await publisher.PublishAsync($"{Root}/news", 1, TestTimeouts.Token());
        await first.Task.WithTimeout();

        await subscription.UnsubscribeAsync(TestTimeouts.Token()).WithTimeout();
        await publisher.PublishAsync($"{Root}/news", 2, TestTimeouts.Token());
        await publisher.PublishAsync($"{Root}/marker", 0, TestTimeouts.Token());
        await marker.Task.WithTimeout();

        Assert.Equal([1], unsubscribedGot.ToArray());
        Assert.False(subscription.IsActive);
    }

    [Fact]
    public async Task DisconnectEndsTheSession()
    {
        var client = await ConnectAsync();
        var states = new ConcurrentQueue<BayeuxClientState>();
        client.StateChanged += (_, e) => states.Enqueue(e.State);

        await client.DisconnectAsync(TestTimeouts.Token()).WithTimeout();

        Assert.Equal(BayeuxClientState.Disconnected, client.State);
        Assert.Null(client.ClientId);
        Assert.Equal([BayeuxClientState.Disconnected], states.ToArray());
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.PublishAsync($"{Root}/x", 1, TestTimeouts.Token()));
    }

    [Fact]
    public async Task ReconnectsAfterDisconnect()
    {
        var client = await ConnectAsync();
        var firstId = client.ClientId;
        await client.DisconnectAsync(TestTimeouts.Token()).WithTimeout();

        await client.ConnectAsync(TestTimeouts.Token()).WithTimeout();

        Assert.NotEqual(firstId, client.ClientId);
        await client.PublishAsync($"{Root}/x", 1, TestTimeouts.Token());
    }

    [Fact]
    public async Task StaysConnectedAcrossAHeldConnect()
    {
        // A server of its own that holds each connect one second (Halley:Timeout), so the test outlasts held connects
        // the server ends by the timeout instead of stopping within a few round trips of the first.
        var server = await StartServerAsync("--Halley:Timeout=00:00:01");
        var connectReplies = Channel.CreateUnbounded<(BayeuxMetaReplyEventArgs Reply, long At)>();
        var client = await ConnectAsync(server.Endpoint, c => c.MetaReplyReceived += (_, e) =>
        {
            if (e.Channel == "/meta/connect")
            {
                connectReplies.Writer.TryWrite((e, Stopwatch.GetTimestamp()));
            }
        });
        var got = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SubscribeAsync($"{Root}/later", m => got.TrySetResult(m), TestTimeouts.Token());
        var other = await ConnectAsync(server.Endpoint);
        var clientId = client.ClientId;
        var states = new ConcurrentQueue<BayeuxClientState>();
        client.StateChanged += (_, e) => states.Enqueue(e.State);

        // The first connect after the handshake asks for an immediate answer; the next two are held. Nothing is
        // published meanwhile, so only the timeout ends them: the second reply is a held connect answered by the
        // timeout, the third proves the client issued the next one and the server held and answered that too.
        var (confirm, confirmedAt) = await connectReplies.Reader.ReadAsync().AsTask().WithTimeout();
        var (firstHeld, firstHeldAt) = await connectReplies.Reader.ReadAsync().AsTask().WithTimeout();
        var (secondHeld, secondHeldAt) = await connectReplies.Reader.ReadAsync().AsTask().WithTimeout();

        Assert.All([confirm, firstHeld, secondHeld], r => Assert.True(r.Successful, r.Message.GetRawText()));
        Assert.Equal([], states.ToArray()); // never left Connected across them
        // Not answered at once: held (for the one-second timeout; a lower bound, so a slow machine cannot fail it).
        Assert.True(Stopwatch.GetElapsedTime(confirmedAt, firstHeldAt) >= TimeSpan.FromMilliseconds(800), $"The first held connect was answered after {Stopwatch.GetElapsedTime(confirmedAt, firstHeldAt)}.");
        Assert.True(Stopwatch.GetElapsedTime(firstHeldAt, secondHeldAt) >= TimeSpan.FromMilliseconds(800), $"The second held connect was answered after {Stopwatch.GetElapsedTime(firstHeldAt, secondHeldAt)}.");
        Assert.Equal(BayeuxClientState.Connected, client.State);
        Assert.Equal(clientId, client.ClientId);
        Assert.False(got.Task.IsCompleted);

        await other.PublishAsync($"{Root}/later", 7, TestTimeouts.Token());

        Assert.Equal(7, (await got.Task.WithTimeout()).Data.GetInt32());
        Assert.Equal(BayeuxClientState.Connected, client.State);
        Assert.Equal(clientId, client.ClientId);
    }

    /// <summary>Starts a server of the test's own with <paramref name="arguments"/>; it stops after the test's clients.</summary>
    protected async Task<HalleyServerProcess> StartServerAsync(params string[] arguments)
    {
        var server = await HalleyServerProcess.StartAsync(0, arguments);
        _servers.Add(server);
        return server;
    }

    protected async Task<BayeuxClient> ConnectAsync(Uri? endpoint = null, Action<BayeuxClient>? configure = null)
    {
        var client = new BayeuxClient(new BayeuxClientOptions
        {
            Endpoint = endpoint ?? fixture.Endpoint,
            Transport = transport,
            RequestTimeout = TimeSpan.FromSeconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
        });
        _clients.Add(client);
        configure?.Invoke(client);
        await client.ConnectAsync(TestTimeouts.Token()).WithTimeout();
        return client;
    }
}

public sealed class WebSocketIntegrationTests(HalleyServerFixture fixture)
    : IntegrationTests(fixture, BayeuxTransport.WebSocket), IClassFixture<HalleyServerFixture>;

public sealed class LongPollingIntegrationTests(HalleyServerFixture fixture)
    : IntegrationTests(fixture, BayeuxTransport.LongPolling), IClassFixture<HalleyServerFixture>;
