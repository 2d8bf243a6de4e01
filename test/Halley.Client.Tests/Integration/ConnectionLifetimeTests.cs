using System.Threading.Channels;

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
        Assert.Equal(BayeuxClientState.Connected, subscriber.State);
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

    private async Task<BayeuxClient> ConnectAsync(BayeuxTransport transport)
    {
        var client = new BayeuxClient(new BayeuxClientOptions
        {
            Endpoint = fixture.Endpoint,
            Transport = transport,
            RequestTimeout = TimeSpan.FromSeconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
        });
        _clients.Add(client);
        await client.ConnectAsync(TestTimeouts.Token()).WithTimeout();
        return client;
    }
}
