using System.Threading.Channels;
using Halley.Client.Tests.Fakes;

namespace Halley.Client.Tests.Integration;

/// <summary>The server closes a WebSocket at the end of its lifetime; the client resumes its session on a new one.</summary>
public sealed class ConnectionLifetimeTests(ShortLifetimeServerFixture fixture) : IClassFixture<ShortLifetimeServerFixture>, IAsyncLifetime
{
    private readonly List<BayeuxClient> _clients = [];

    private string Root { get; } = "/l" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WithTimeout();
        }
    }

    [Fact]
    public async Task WebSocketClient_ResumesAfterTheLifetimeClose_AndLosesNothingPublishedBeforeAroundOrAfterIt()
    {
        var subscriber = await ConnectAsync(BayeuxTransport.WebSocket);
        // Long-polling holds no connection past Halley:Timeout, so the lifetime never closes the publisher's.
        var publisher = await ConnectAsync(BayeuxTransport.LongPolling);
        var received = Channel.CreateUnbounded<int>();
        await subscriber.SubscribeAsync($"{Root}/seq", m => received.Writer.TryWrite(m.Data.GetInt32()), TestTimeouts.Token());
        var clientId = subscriber.ClientId;
        var cycled = WaitForReconnectThenConnected(subscriber);

        var sent = 0;
        for (var i = 0; i < 10; i++)
        {
            await publisher.PublishAsync($"{Root}/seq", sent++, TestTimeouts.Token());
        }

        // Around the close: keep publishing until the subscriber has lost its socket (lifetime 2 s ±10%) and is back.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!cycled.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "The server did not close the subscriber's WebSocket at the end of its lifetime, or the client did not come back.");
            await publisher.PublishAsync($"{Root}/seq", sent++, TestTimeouts.Token());
            // Pacing only (a few hundred messages over the lifetime), so the gap's queue stays far below MaxQueue.
            await Task.Delay(5);
        }
        await cycled;

        for (var i = 0; i < 10; i++)
        {
            await publisher.PublishAsync($"{Root}/seq", sent++, TestTimeouts.Token());
        }

        var got = new List<int>(sent);
        while (got.Count < sent)
        {
            got.Add(await received.Reader.ReadAsync().AsTask().WithTimeout());
        }
        Assert.Equal(Enumerable.Range(0, sent), got);
        Assert.Equal(clientId, subscriber.ClientId); // resumed with its token, not handshaken again
        // The server ends the socket every 2 s: a slow run may be between two sockets right now, so the client is
        // connected, or comes back to it, in the same session.
        await UntilConnected(subscriber).WithTimeout();
        Assert.Equal(clientId, subscriber.ClientId);
    }

    [Fact]
    public async Task WebSocketClient_ComesBackAfterTheLifetimeClose_WithoutPausingForItsBackoff()
    {
        // The server answers the held connect with {reconnect: retry, interval: 0} and closes with 1000: that is no
        // failure, so the client reconnects at once. The relay makes the close arrive after the client's next connect
        // went out on the closing socket, so that connect fails with the close. The client's clock never moves by
        // itself: a client that paused for a backoff step would never come back, and the pauses it asked for are listed.
        await using var relay = new CloseAfterClientSpeaksRelay(fixture.Endpoint);
        var clock = new ManualTimers();
        var options = Options(BayeuxTransport.WebSocket);
        options.Endpoint = relay.Via(fixture.Endpoint);
        var subscriber = new BayeuxClient(options, clock);
        _clients.Add(subscriber);
        await subscriber.ConnectAsync(TestTimeouts.Token()).WithTimeout();
        var publisher = await ConnectAsync(BayeuxTransport.LongPolling);
        var received = Channel.CreateUnbounded<int>();
        await subscriber.SubscribeAsync($"{Root}/back", m => received.Writer.TryWrite(m.Data.GetInt32()), TestTimeouts.Token());
        var clientId = subscriber.ClientId;

        // The lifetime is 2 s ±10%; the default timeout leaves room for a busy machine.
        await WaitForReconnectThenConnected(subscriber).WithTimeout();
        await publisher.PublishAsync($"{Root}/back", 1, TestTimeouts.Token());

        Assert.Equal(1, await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.True(relay.HeldCloses >= 1, "The server's close did not wait for the client's next connect.");
        Assert.Equal(clientId, subscriber.ClientId);
        Assert.Empty(clock.Requested);
    }

    private static Task UntilConnected(BayeuxClient client)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) =>
        {
            if (e.State == BayeuxClientState.Connected)
            {
                reached.TrySetResult();
            }
        };
        // Looked at after the handler is in place, so a change in between is not missed.
        if (client.State == BayeuxClientState.Connected)
        {
            reached.TrySetResult();
        }
        return reached.Task;
    }

    private static Task WaitForReconnectThenConnected(BayeuxClient client)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = false;
        client.StateChanged += (_, e) =>
        {
            lost |= e.State == BayeuxClientState.Reconnecting;
            if (lost && e.State == BayeuxClientState.Connected)
            {
                reached.TrySetResult();
            }
        };
        return reached.Task;
    }

    private BayeuxClientOptions Options(BayeuxTransport transport) => new()
    {
        Endpoint = fixture.Endpoint,
        Transport = transport,
        RequestTimeout = TimeSpan.FromSeconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(500),
    };

    private async Task<BayeuxClient> ConnectAsync(BayeuxTransport transport)
    {
        var client = new BayeuxClient(Options(transport));
        _clients.Add(client);
        await client.ConnectAsync(TestTimeouts.Token()).WithTimeout();
        return client;
    }
}
