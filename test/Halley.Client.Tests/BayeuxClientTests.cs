using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Client.Tests.Fakes;

namespace Halley.Client.Tests;

/// <summary>The client's session logic against <see cref="FakeBayeuxServer"/>: no network, no real server.</summary>
public sealed class BayeuxClientTests : IAsyncDisposable
{
    private readonly FakeBayeuxServer _server = new();
    private readonly BayeuxClient _client;
    private readonly ConcurrentQueue<BayeuxClientState> _states = new();

    public BayeuxClientTests()
    {
        _client = new BayeuxClient(
            new BayeuxClientOptions { Endpoint = new Uri("http://fake/cometd"), MaxBackoff = TimeSpan.FromMilliseconds(50), RequestTimeout = TimeSpan.FromSeconds(5) },
            _server.CreateTransport);
        _client.StateChanged += (_, e) => _states.Enqueue(e.State);
    }

    public async ValueTask DisposeAsync() => await _client.DisposeAsync().AsTask().WithTimeout();

    [Fact]
    public async Task ConnectHandshakesThenSendsAnImmediateConnect()
    {
        var connected = WaitFor(m => m.GetProperty("channel").GetString() == "/meta/connect");

        await _client.ConnectAsync(TestTimeouts.Token());
        var connect = await connected.WithTimeout();

        Assert.Equal(BayeuxClientState.Connected, _client.State);
        Assert.Matches("^[0-9a-f]{32}$", _client.ClientId);
        var handshake = Assert.Single(_server.ReceivedOn("/meta/handshake"));
        Assert.Equal("1.0", handshake.GetProperty("version").GetString());
        Assert.Equal(0, connect.GetProperty("advice").GetProperty("timeout").GetInt32());
        Assert.Equal("websocket", connect.GetProperty("connectionType").GetString());
        Assert.Equal(_client.ClientId, connect.GetProperty("clientId").GetString());
        Assert.Equal([BayeuxClientState.Handshaking, BayeuxClientState.Connected], _states.ToArray());
    }

    [Fact]
    public async Task ConnectTwiceThrows()
    {
        await _client.ConnectAsync(TestTimeouts.Token());

        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.ConnectAsync(TestTimeouts.Token()));
    }

    [Fact]
    public async Task RequestsBeforeConnectThrow() =>
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.PublishAsync("/a", 1, TestTimeouts.Token()));

    [Fact]
    public async Task EventsReachMatchingSubscriptionsOnly()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var exact = new ConcurrentQueue<string>();
        var one = new ConcurrentQueue<string>();
        var deep = new ConcurrentQueue<string>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync("/chat/a", m => exact.Enqueue(m.Channel), TestTimeouts.Token());
        await _client.SubscribeAsync("/chat/*", m => one.Enqueue(m.Channel), TestTimeouts.Token());
        await _client.SubscribeAsync("/chat/**", m =>
        {
            deep.Enqueue(m.Channel);
            if (m.Channel == "/chat/end")
            {
                done.TrySetResult();
            }
        }, TestTimeouts.Token());

        _server.Publish("/chat/a", 1);
        _server.Publish("/chat/a/b", 2);
        _server.Publish("/other", 3);
        _server.Publish("/chat/end", 4);
        await done.Task.WithTimeout();

        Assert.Equal(["/chat/a"], exact);
        Assert.Equal(["/chat/a", "/chat/end"], one);
        Assert.Equal(["/chat/a", "/chat/a/b", "/chat/end"], deep);
    }

    [Fact]
    public async Task ASlowHandlerDoesNotReorderMessages()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var received = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync("/ticks", m =>
        {
            var n = m.Data.GetInt32();
            if (n % 10 == 0)
            {
                Thread.Sleep(5); // a slow handler, not synchronization
            }

            received.Add(n);
            if (n == 99)
            {
                done.TrySetResult();
            }
        }, TestTimeouts.Token());

        for (var i = 0; i < 100; i++)
        {
            _server.Publish("/ticks", i);
        }

        await done.Task.WithTimeout();
        Assert.Equal(Enumerable.Range(0, 100), received);
    }

    [Fact]
    public async Task PublishReceivesOwnMessageAndServiceCallReturnsData()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var got = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync("/chat/a", m => got.TrySetResult(m), TestTimeouts.Token());

        await _client.PublishAsync("/chat/a", new { Text = "hi" }, TestTimeouts.Token());
        var message = await got.Task.WithTimeout();
        var echoed = await _client.CallAsync("/service/echo", new { N = 5 }, TestTimeouts.Token());

        Assert.Equal("hi", message.GetData<JsonElement>().GetProperty("text").GetString());
        Assert.Equal(5, echoed.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task FailedPublishThrowsWithTheServersError()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        _server.PublishError = _ => "403::forbidden";

        var error = await Assert.ThrowsAsync<BayeuxException>(() => _client.PublishAsync("/secret", 1, TestTimeouts.Token()));

        Assert.Equal("403::forbidden", error.Error);
        Assert.Equal(403, error.ErrorCode);
        Assert.Equal(BayeuxClientState.Connected, _client.State);
    }

    [Fact]
    public async Task InvalidChannelsAreRejectedLocally()
    {
        await _client.ConnectAsync(TestTimeouts.Token());

        await Assert.ThrowsAsync<ArgumentException>(() => _client.PublishAsync("/a/*", 1, TestTimeouts.Token()));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.PublishAsync("/meta/connect", 1, TestTimeouts.Token()));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.SubscribeAsync("/meta/**", _ => { }, TestTimeouts.Token()));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.CallAsync("/chat/a", 1, TestTimeouts.Token()));
    }

    [Fact]
    public async Task UnsubscribeStopsDeliveryAndTellsTheServerOnceNoSubscriptionNeedsTheChannel()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var first = await _client.SubscribeAsync("/a", _ => { }, TestTimeouts.Token());
        var second = await _client.SubscribeAsync("/a", _ => { }, TestTimeouts.Token());

        await first.UnsubscribeAsync(TestTimeouts.Token()).WithTimeout();
        Assert.Empty(_server.ReceivedOn("/meta/unsubscribe"));
        Assert.False(first.IsActive);

        await second.DisposeAsync().AsTask().WithTimeout();
        Assert.Single(_server.ReceivedOn("/meta/unsubscribe"));
    }

    [Fact]
    public async Task LostSessionMeansRehandshakeAndResubscribe()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var got = new TaskCompletionSource<BayeuxMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync("/news/**", m => got.TrySetResult(m), TestTimeouts.Token());
        var firstClientId = _client.ClientId;
        await WaitFor(m => m.GetProperty("channel").GetString() == "/meta/connect" && !m.TryGetProperty("advice", out _)).WithTimeout();
        var back = WaitForState(BayeuxClientState.Connected, after: BayeuxClientState.Reconnecting);

        _server.ForgetSessions();
        await back.WithTimeout();
        _server.Publish("/news/today", "fresh");

        Assert.Equal("fresh", (await got.Task.WithTimeout()).Data.GetString());
        Assert.NotEqual(firstClientId, _client.ClientId);
        Assert.Equal(2, _server.Handshakes);
        Assert.Equal(2, _server.ReceivedOn("/meta/subscribe").Count());
    }

    [Fact]
    public async Task DroppedConnectionResumesTheSessionWithItsToken()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(m => m.GetProperty("channel").GetString() == "/meta/connect" && !m.TryGetProperty("advice", out _)).WithTimeout();
        var clientId = _client.ClientId;
        var resumed = WaitFor(m => m.TryGetProperty("ext", out _));
        var back = WaitForState(BayeuxClientState.Connected, after: BayeuxClientState.Reconnecting);

        _server.Transports.Single().Drop();
        var resume = await resumed.WithTimeout();
        await back.WithTimeout();

        Assert.Equal("/meta/connect", resume.GetProperty("channel").GetString());
        Assert.StartsWith("token-", resume.GetProperty("ext").GetProperty("halley").GetProperty("token").GetString(), StringComparison.Ordinal);
        Assert.Equal(clientId, _client.ClientId);
        Assert.Equal(1, _server.Handshakes);
    }

    [Fact]
    public async Task StateChangesAreRaisedInTheOrderTheyWereMade_OneAtATime()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(m => m.GetProperty("channel").GetString() == "/meta/connect" && !m.TryGetProperty("advice", out _)).WithTimeout();
        var seen = new ConcurrentQueue<string>();
        _client.StateChanged += (_, e) =>
        {
            seen.Enqueue("enter " + e.State);
            if (e.State == BayeuxClientState.Reconnecting)
            {
                // Raised on the thread that dropped the socket; meanwhile the connect loop resumes the session on
                // another and makes the client Connected. That change must not be raised before this one returns.
                Assert.True(SpinWait.SpinUntil(() => _client.State == BayeuxClientState.Connected, TestTimeouts.Default), "The client did not reconnect.");
            }

            seen.Enqueue("exit " + e.State);
        };
        var back = WaitForState(BayeuxClientState.Connected, after: BayeuxClientState.Reconnecting);

        await Task.Run(() => _server.Transports.Single().Drop()).WithTimeout();
        await back.WithTimeout();

        Assert.Equal(["enter Reconnecting", "exit Reconnecting", "enter Connected", "exit Connected"], seen.ToArray());
    }

    [Fact]
    public async Task PublishDuringRecoveryWaitsForTheNewSession()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var oldClientId = _client.ClientId;
        _server.HoldHandshakes();
        var rehandshake = Next(IsHandshake);

        _server.ForgetSessions(); // the held connect gets 402: the client knows, and handshakes again
        await rehandshake.WithTimeout(); // held by the server: the client stays in recovery until released
        Assert.Equal(BayeuxClientState.Reconnecting, _client.State);
        var publish = _client.PublishAsync("/chat/a", 1, TestTimeouts.Token());

        Assert.False(publish.IsCompleted, "The publish completed while the client had no session.");
        Assert.Empty(_server.ReceivedOn("/chat/a"));
        _server.ReleaseHandshakes();
        await publish.WithTimeout(); // successful: no BayeuxException

        var newClientId = _client.ClientId;
        Assert.NotNull(newClientId);
        Assert.NotEqual(oldClientId, newClientId);
        var sent = Assert.Single(_server.ReceivedOn("/chat/a"));
        Assert.Equal(newClientId, sent.GetProperty("clientId").GetString());
        Assert.Equal(2, _server.Handshakes);
    }

    [Fact]
    public async Task APublishRefusedBecauseTheServerLostTheSessionFirst_IsSentOnceMoreInTheNewSession()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var oldClientId = _client.ClientId;
        _server.HoldHandshakes();
        var rehandshake = Next(IsHandshake);
        _server.ForgetSessions(answerHeldConnects: false); // the client does not know yet
        Assert.Equal(BayeuxClientState.Connected, _client.State);

        var publish = _client.PublishAsync("/chat/a", 1, TestTimeouts.Token());
        await rehandshake.WithTimeout(); // the publish's 402 told the client; its handshake is held

        Assert.False(publish.IsCompleted, "The publish completed before the new session existed.");
        var refused = Assert.Single(_server.ReceivedOn("/chat/a"));
        Assert.Equal(oldClientId, refused.GetProperty("clientId").GetString());
        _server.ReleaseHandshakes();
        await publish.WithTimeout(); // successful: no BayeuxException

        var newClientId = _client.ClientId;
        Assert.NotNull(newClientId);
        Assert.NotEqual(oldClientId, newClientId);
        Assert.Equal([oldClientId, newClientId], _server.ReceivedOn("/chat/a").Select(m => m.GetProperty("clientId").GetString()));
        Assert.Equal(2, _server.Handshakes);
    }

    [Fact]
    public async Task APublishWaitingForTheNewSession_EndsWhenItsTokenIsCancelled_AndIsNeverSent()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        _server.HoldHandshakes();
        var rehandshake = Next(IsHandshake);
        _server.ForgetSessions();
        await rehandshake.WithTimeout();
        using var cancel = new CancellationTokenSource();
        var publish = _client.PublishAsync("/chat/a", 1, cancel.Token);
        Assert.False(publish.IsCompleted, "The publish completed while the client had no session.");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publish.WithTimeout());
        var back = WaitForState(BayeuxClientState.Connected);
        _server.ReleaseHandshakes();
        await back.WithTimeout();
        await _client.PublishAsync("/chat/b", 2, TestTimeouts.Token()); // sent after anything the cancelled one could have sent
        Assert.Single(_server.ReceivedOn("/chat/b"));
        Assert.Empty(_server.ReceivedOn("/chat/a"));
    }

    [Fact]
    public async Task DisconnectEndsTheSession()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var subscription = await _client.SubscribeAsync("/a", _ => { }, TestTimeouts.Token());

        await _client.DisconnectAsync(TestTimeouts.Token()).WithTimeout();

        Assert.Equal(BayeuxClientState.Disconnected, _client.State);
        Assert.Null(_client.ClientId);
        Assert.False(subscription.IsActive);
        Assert.Single(_server.ReceivedOn("/meta/disconnect"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.PublishAsync("/a", 1, TestTimeouts.Token()));

        // A disconnected client can connect again, to a new session.
        await _client.ConnectAsync(TestTimeouts.Token());
        Assert.Equal(2, _server.Handshakes);
    }

    [Fact]
    public async Task HandlerExceptionsDoNotStopDelivery()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var got = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _client.SubscribeAsync("/a", _ => throw new InvalidOperationException("boom"), TestTimeouts.Token());
        await _client.SubscribeAsync("/a", m => got.TrySetResult(), TestTimeouts.Token());

        _server.Publish("/a", new JsonObject());

        await got.Task.WithTimeout();
    }

    [Fact]
    public async Task TheServersNormalCloseAfterItsReconnectAdvice_IsFollowedAtOnce_WithoutABackoffPause()
    {
        // The clock never moves by itself: had the client paused for its backoff, it would not come back.
        var clock = new ManualTimers();
        await using var client = NewClient(clock);
        var got = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.ConnectAsync(TestTimeouts.Token());
        await client.SubscribeAsync("/life", m => got.TrySetResult(m.Data.GetInt32()), TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var clientId = client.ClientId;

        var sentOnTheClosingSocket = Next(IsConnect);
        _server.EndLifetime();
        await sentOnTheClosingSocket.WithTimeout(); // the server ignores it, and closes
        var resumed = Next(m => IsConnect(m) && m.TryGetProperty("ext", out _));
        _server.Transports.Single().CloseNormally();

        var resume = await resumed.WithTimeout();
        Assert.StartsWith("token-", resume.GetProperty("ext").GetProperty("halley").GetProperty("token").GetString(), StringComparison.Ordinal);
        _server.Publish("/life", 7);
        Assert.Equal(7, await got.Task.WithTimeout());
        Assert.Empty(clock.Requested);
        Assert.Equal(clientId, client.ClientId);
        Assert.Equal(1, _server.Handshakes);
    }

    [Fact]
    public async Task ALostConnection_StillBacksOff()
    {
        var clock = new ManualTimers();
        await using var client = NewClient(clock);
        await client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var paused = clock.NextTimer();

        var reconnected = Next(IsConnect);
        _server.Transports.Single().Drop();

        Assert.Equal(TimeSpan.FromMilliseconds(100), await paused.WithTimeout());
        Assert.False(reconnected.IsCompleted, "The client reconnected without pausing.");
        var resumed = Next(m => IsConnect(m) && m.TryGetProperty("ext", out _));
        clock.FireAll();
        await resumed.WithTimeout();
    }

    [Fact]
    public async Task ANormalCloseOfAConnectionThatNeverWorked_BacksOff()
    {
        // A server that closes every new socket at once must not keep the client in a loop without pauses.
        var clock = new ManualTimers();
        await using var client = NewClient(clock);
        await client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var sentOnTheClosingSocket = Next(IsConnect);
        _server.EndLifetime();
        await sentOnTheClosingSocket.WithTimeout();
        _server.HoldEveryConnect = true; // the next socket's connect gets no reply before it closes too
        var resumed = Next(m => IsConnect(m) && m.TryGetProperty("ext", out _));
        _server.Transports.Single().CloseNormally();
        await resumed.WithTimeout();
        Assert.Empty(clock.Requested);
        var paused = clock.NextTimer();
        var reconnected = Next(IsConnect);

        _server.Transports.Single().CloseNormally();

        Assert.Equal(TimeSpan.FromMilliseconds(100), await paused.WithTimeout());
        Assert.False(reconnected.IsCompleted, "The client reconnected without pausing.");
    }

    [Fact]
    public async Task ASubscribeInFlightWhenTheServerClosesTheSocketNormally_IsSentAgainOnTheNextSocket_InTheSameSession()
    {
        // The CI failure of WebSocketClient_ResumesAfterTheLifetimeClose…, made deterministic: the subscribe is on the
        // socket, unanswered, when the server answers the held connect (retry, interval 0) and closes with 1000.
        var clock = new ManualTimers();
        await using var client = NewClient(clock);
        var got = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        var clientId = client.ClientId;
        var subscribes = 0;
        _server.LeaveUnanswered = m => IsSubscribe(m) && Interlocked.Increment(ref subscribes) == 1;
        var inFlight = Next(IsSubscribe);
        var subscribing = client.SubscribeAsync("/life", m => got.TrySetResult(m.Data.GetInt32()), TestTimeouts.Token());
        await inFlight.WithTimeout();

        var sentOnTheClosingSocket = Next(IsConnect);
        _server.EndLifetime();
        await sentOnTheClosingSocket.WithTimeout();
        var resent = Next(IsSubscribe);
        _server.Transports.Single().CloseNormally();

        var subscription = await subscribing.WithTimeout();
        var again = await resent.WithTimeout();
        Assert.Equal("/life", again.GetProperty("subscription").GetString());
        Assert.Equal(clientId, again.GetProperty("clientId").GetString());
        Assert.True(subscription.IsActive);
        _server.Publish("/life", 7); // reaches the handler only if the resent subscribe took effect in the session
        Assert.Equal(7, await got.Task.WithTimeout());
        Assert.Equal(clientId, client.ClientId);
        Assert.Equal(1, _server.Handshakes);
        Assert.Equal(2, _server.ReceivedOn("/meta/subscribe").Count());
    }

    [Fact]
    public async Task APublishInFlightWhenTheServerClosesTheSocketNormally_FailsInsteadOfRiskingADuplicate()
    {
        // The server may have published it before closing, and it has no per-session dedup of publishes: the caller decides.
        var clock = new ManualTimers();
        await using var client = NewClient(clock);
        await client.ConnectAsync(TestTimeouts.Token());
        await WaitFor(IsHeldConnect).WithTimeout();
        _server.LeaveUnanswered = m => m.GetProperty("channel").GetString() == "/pub";
        var inFlight = Next(m => m.GetProperty("channel").GetString() == "/pub");
        var publishing = client.PublishAsync("/pub", 1, TestTimeouts.Token());
        await inFlight.WithTimeout();

        var sentOnTheClosingSocket = Next(IsConnect);
        _server.EndLifetime();
        await sentOnTheClosingSocket.WithTimeout();
        var resumed = Next(m => IsConnect(m) && m.TryGetProperty("ext", out _));
        _server.Transports.Single().CloseNormally();

        await Assert.ThrowsAnyAsync<BayeuxException>(() => publishing.WithTimeout());
        await resumed.WithTimeout();
        Assert.Single(_server.ReceivedOn("/pub"));
    }

    // RequestTimeout is longer than any wait of these tests, so no pause they see can follow a timed-out request.
    private BayeuxClient NewClient(TimeProvider clock) => new(
        new BayeuxClientOptions { Endpoint = new Uri("http://fake/cometd"), MaxBackoff = TimeSpan.FromSeconds(30), RequestTimeout = TimeSpan.FromMinutes(1) },
        _server.CreateTransport,
        clock);

    private static bool IsConnect(JsonElement message) => message.GetProperty("channel").GetString() == "/meta/connect";

    private static bool IsSubscribe(JsonElement message) => message.GetProperty("channel").GetString() == "/meta/subscribe";

    private static bool IsHeldConnect(JsonElement message) => IsConnect(message) && !message.TryGetProperty("advice", out _);

    private static bool IsHandshake(JsonElement message) => message.GetProperty("channel").GetString() == "/meta/handshake";

    /// <summary>The next matching message the fake server receives from now on (earlier ones do not count).</summary>
    private Task<JsonElement> Next(Func<JsonElement, bool> predicate)
    {
        var found = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.MessageReceived += m =>
        {
            if (predicate(m))
            {
                found.TrySetResult(m);
            }
        };
        return found.Task;
    }

    private Task<JsonElement> WaitFor(Func<JsonElement, bool> predicate)
    {
        var found = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.MessageReceived += m =>
        {
            if (predicate(m))
            {
                found.TrySetResult(m);
            }
        };

        // Subscribed first, then the log checked, so a message arriving in between is not missed.
        var earlier = _server.Received.FirstOrDefault(predicate);
        if (earlier.ValueKind != JsonValueKind.Undefined)
        {
            found.TrySetResult(earlier);
        }

        return found.Task;
    }

    private Task WaitForState(BayeuxClientState state, BayeuxClientState? after = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seenAfter = after is null;
        _client.StateChanged += (_, e) =>
        {
            seenAfter |= e.State == after;
            if (seenAfter && e.State == state)
            {
                reached.TrySetResult();
            }
        };
        if (after is null && _client.State == state)
        {
            reached.TrySetResult();
        }

        return reached.Task;
    }
}
