using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Client.Tests.Fakes;

namespace Halley.Client.Tests;

/// <summary>
/// Positions are opaque to the client: it keeps the last one received on a subscription, in arrival order, and sends it
/// back as it is. It never parses, compares or reformats one, so the server can change their form.
/// </summary>
public sealed class OpaquePositionTests : IAsyncDisposable
{
    private readonly FakeBayeuxServer _server = new();
    private readonly BayeuxClient _client;

    public OpaquePositionTests() => _client = new BayeuxClient(
        new BayeuxClientOptions { Endpoint = new Uri("http://fake/cometd"), MaxBackoff = TimeSpan.FromMilliseconds(50), RequestTimeout = TimeSpan.FromSeconds(5) },
        _server.CreateTransport);

    public static TheoryData<string> Shapes { get; } =
    [
        "k3j9x2ab:42", // today's epoch:offset
        "e1:3/2:17|x",
        "v2.k3j-4.q9-17",
        "no colon at all",
        "12:abc:",
        "ü☃:-1 \"quoted\" \\ back",
        string.Concat(Enumerable.Range(0, 20).Select(i => $"shard{i:D2}-{i * 7919 % 10007:D4}")) + "~", // 201 characters
    ];

    public async ValueTask DisposeAsync() => await _client.DisposeAsync().AsTask().WithTimeout();

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task APositionOfAnyShape_IsSentBackUnchanged_WhenResubscribingInANewSession(string position)
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var got = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await _client.SubscribeAsync("/pos/a", _ => got.TrySetResult(), TestTimeouts.Token());
        _server.Publish("/pos/a", 1, position: position);
        await got.Task.WithTimeout();
        Assert.Equal(position, subscription.Position);
        var resubscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscription.Resubscribed += (_, _) => resubscribed.TrySetResult();

        _server.ForgetSessions();
        await resubscribed.Task.WithTimeout();

        var resubscribe = _server.ReceivedOn("/meta/subscribe").Last();
        Assert.Equal(position, resubscribe.GetProperty("ext").GetProperty("halley").GetProperty("position").GetString());
        Assert.Equal(2, _server.Handshakes);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task SubscribingFromAKeptPositionOfAnyShape_SendsItAsItIs_AndKeepsItUntilSomethingArrives(string position)
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        _server.SubscribeRecovered = true;

        var subscription = await _client.SubscribeAsync("/pos/kept", _ => { }, since: position, TestTimeouts.Token());

        var subscribe = Assert.Single(_server.ReceivedOn("/meta/subscribe"));
        Assert.Equal(position, subscribe.GetProperty("ext").GetProperty("halley").GetProperty("position").GetString());
        Assert.Equal(position, subscription.Position);
    }

    [Fact]
    public async Task ThePositionIsTheLastOneReceived_InArrivalOrder_AndNoMessageIsDroppedByIt()
    {
        // Read as numbers the last is the smallest, as text neither the largest nor the smallest; a repeat is no duplicate
        // to the client either: the server decides what a session gets, the client hands on everything.
        string[] positions = ["k:9", "k:10", "k:10", "k:2"];
        await _client.ConnectAsync(TestTimeouts.Token());
        var received = new ConcurrentQueue<string?>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await _client.SubscribeAsync("/pos/order", m =>
        {
            received.Enqueue(m.Position);
            if (received.Count == positions.Length)
            {
                all.TrySetResult();
            }
        }, TestTimeouts.Token());

        foreach (var position in positions)
        {
            _server.Publish("/pos/order", 1, position: position);
        }

        await all.Task.WithTimeout();
        Assert.Equal(positions, received.ToArray());
        Assert.Equal("k:2", subscription.Position);
    }

    [Fact]
    public async Task PositionsThatAreNoPositionAtAll_NeverMakeTheClientThrow()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        _server.SubscribePosition = "%%"; // a subscribe reply's start, of no known form
        var received = new ConcurrentQueue<int>();
        var last = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await _client.SubscribeAsync("/pos/odd", m =>
        {
            received.Enqueue(m.Data.GetInt32());
            if (m.Data.GetInt32() == 5)
            {
                last.TrySetResult();
            }
        }, TestTimeouts.Token());
        Assert.Equal("%%", subscription.Position);

        _server.Publish("/pos/odd", 1, position: 42); // not a string: no position
        _server.Publish("/pos/odd", 2, position: new JsonObject { ["epoch"] = "e", ["offset"] = 1 });
        _server.Publish("/pos/odd", 3, position: new JsonArray(1, 2));
        _server.Publish("/pos/odd", 4, position: "");
        _server.Publish("/pos/odd", 5, position: "::::");
        await last.Task.WithTimeout();

        Assert.Equal([1, 2, 3, 4, 5], received.ToArray());
        Assert.Equal("::::", subscription.Position);
        Assert.Equal(BayeuxClientState.Connected, _client.State);
        var resubscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscription.Resubscribed += (_, _) => resubscribed.TrySetResult();
        _server.ForgetSessions();
        await resubscribed.Task.WithTimeout();
        Assert.Equal("::::", _server.ReceivedOn("/meta/subscribe").Last().GetProperty("ext").GetProperty("halley").GetProperty("position").GetString());
    }

    [Fact]
    public async Task TwoSubscriptionsOnAChannel_ResumeFromThePositionReceivedFirst_WithoutComparingPositions()
    {
        await _client.ConnectAsync(TestTimeouts.Token());
        var got = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await _client.SubscribeAsync("/pos/shared", _ => got.TrySetResult(), TestTimeouts.Token());
        _server.Publish("/pos/shared", 1, position: "zz-event");
        await got.Task.WithTimeout();
        _server.SubscribePosition = "aa-later-start"; // the second starts later; as text it would sort first
        var second = await _client.SubscribeAsync("/pos/shared", _ => { }, TestTimeouts.Token());
        Assert.Equal("zz-event", first.Position);
        Assert.Equal("aa-later-start", second.Position);
        var resubscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Resubscribed += (_, _) => resubscribed.TrySetResult();

        _server.ForgetSessions();
        await resubscribed.Task.WithTimeout();

        // One server subscription serves both: it resumes where the one furthest behind is, by arrival.
        var resubscribes = _server.ReceivedOn("/meta/subscribe").Skip(2).ToArray();
        var resubscribe = Assert.Single(resubscribes);
        Assert.Equal("zz-event", resubscribe.GetProperty("ext").GetProperty("halley").GetProperty("position").GetString());
    }
}
