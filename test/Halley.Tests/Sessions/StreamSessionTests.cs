using System.Text;
using Halley.Engine;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Sessions;

/// <summary>
/// What the processor and the session do for streams that push a session's messages: Faye's <c>eventsource</c>
/// (connects answered at once, binding by cookie) and connections closed at the end of their lifetime.
/// </summary>
public class StreamSessionTests
{
    private const string Browser = "0123456789abcdef0123456789abcdef";
    private const string OtherBrowser = "fedcba9876543210fedcba9876543210";

    private static EncodedMessage Msg(string data) => new("/a", Encoding.UTF8.GetBytes($$"""{"channel":"/a","data":{{data}}}"""));

    private sealed class PushTarget : IPushTarget
    {
        public int Calls { get; private set; }

        public int Releases { get; private set; }

        public void MessagesAvailable() => Calls++;

        public void Released() => Releases++;
    }

    private static Task<(List<BayeuxReply> Replies, PendingConnect? Connect)> EventSourceConnectAsync(Harness h, string clientId) =>
        h.SendAsync($$"""{"channel":"/meta/connect","id":"c","clientId":"{{clientId}}","connectionType":"eventsource"}""");

    [Fact]
    public async Task Handshake_AdvertisesEventSource()
    {
        using var h = new Harness();
        var (replies, _) = await h.SendAsync("""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["eventsource","long-polling"]}""");

        var types = Wire.Parse(Assert.Single(replies)).GetProperty("supportedConnectionTypes").EnumerateArray().Select(t => t.GetString()).ToList();

        Assert.Equal(["websocket", "eventsource", "long-polling", "cross-origin-long-polling", "callback-polling"], types);
    }

    [Fact]
    public async Task EventSourceConnect_IsAnsweredAtOnce_WithFayesAdvice()
    {
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(30), Interval = TimeSpan.FromSeconds(1) });
        var clientId = await h.HandshakeAsync();
        Assert.True(h.Registry.TryGet(clientId, out var session));
        session.AttachPushTarget(new PushTarget());

        var (_, pending) = await EventSourceConnectAsync(h, clientId);

        Assert.NotNull(pending);
        Assert.True(pending.Held.IsCompleted, "an eventsource connect must not be held");
        var reply = h.Processor.CompleteConnect(pending, await pending.Held.Outcome, []);
        var advice = Wire.Parse(reply).GetProperty("advice");
        Assert.Equal("retry", advice.GetProperty("reconnect").GetString());
        Assert.Equal(30000, advice.GetProperty("interval").GetInt64()); // the server's Timeout, as Faye's server advises
        Assert.Equal(0, advice.GetProperty("timeout").GetInt64());
    }

    [Fact]
    public async Task EventSourceConnect_WithAStreamAttached_LeavesTheMessagesToTheStream()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        Assert.True(h.Registry.TryGet(clientId, out var session));
        var stream = new PushTarget();
        session.AttachPushTarget(stream);
        session.Deliver(Msg("1"));

        var (_, pending) = await EventSourceConnectAsync(h, clientId);
        var events = new List<EncodedMessage>();
        h.Processor.CompleteConnect(pending!, await pending!.Held.Outcome, events);

        Assert.Empty(events);
        Assert.Equal(1, session.QueuedCount);
    }

    [Fact]
    public async Task EventSourceConnect_WithoutAStream_CarriesTheQueuedMessages()
    {
        // Between two streams (the browser's EventSource is reconnecting) the connect reply delivers them.
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        Assert.True(h.Registry.TryGet(clientId, out var session));
        var queued = Msg("1");
        session.Deliver(queued);

        var (_, pending) = await EventSourceConnectAsync(h, clientId);
        var events = new List<EncodedMessage>();
        h.Processor.CompleteConnect(pending!, await pending!.Held.Outcome, events);

        Assert.Same(queued, Assert.Single(events));
    }

    [Fact]
    public async Task EventSourceSession_OutlivesTheAdvisedInterval_ThenExpires()
    {
        // The client is told to wait Timeout before its next connect, so the session must last Timeout + MaxInterval.
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(20), MaxInterval = TimeSpan.FromSeconds(10) });
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await EventSourceConnectAsync(h, clientId);
        h.Processor.CompleteConnect(pending!, await pending!.Held.Outcome, []);

        h.Time.Advance(TimeSpan.FromSeconds(29));
        h.Registry.Sweep();
        Assert.True(h.Registry.TryGet(clientId, out _), "expired before the advised interval plus MaxInterval");

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Registry.Sweep();
        Assert.False(h.Registry.TryGet(clientId, out _));
    }

    [Fact]
    public async Task LongPollingSession_StillExpiresAfterMaxInterval()
    {
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(20), MaxInterval = TimeSpan.FromSeconds(10) });
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$$"""{"channel":"/meta/connect","clientId":"{{{clientId}}}","connectionType":"long-polling","advice":{"timeout":0}}""");
        h.Processor.CompleteConnect(pending!, await pending!.Held.Outcome, []);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Registry.Sweep();

        Assert.False(h.Registry.TryGet(clientId, out _));
    }

    [Fact]
    public async Task ConnectionClosing_RepliesSuccessfully_WithAdviceToReconnectAtOnce()
    {
        using var h = new Harness(new HalleyOptions { Interval = TimeSpan.FromSeconds(3) });
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"websocket"}""");
        Assert.True(pending!.Held.TryComplete(ConnectOutcome.ConnectionClosing));

        var reply = h.Processor.CompleteConnect(pending, ConnectOutcome.ConnectionClosing, []);

        Assert.True(reply.Successful);
        var advice = Wire.Parse(reply).GetProperty("advice");
        Assert.Equal("retry", advice.GetProperty("reconnect").GetString());
        Assert.Equal(0, advice.GetProperty("interval").GetInt64());
        Assert.False(pending.Session.HasHeldConnect);
        Assert.False(pending.Session.IsTerminated);
    }

    [Theory]
    [InlineData(Browser, true, "Bound")]
    [InlineData(OtherBrowser, true, "NotBound")]
    [InlineData(null, true, "NotBound")]
    [InlineData(OtherBrowser, false, "Bound")]
    public async Task BindStream_NeedsTheBrowserCookie_UnlessTurnedOff(string? browserId, bool requireCookie, string expected)
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = requireCookie } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        Assert.Equal(Enum.Parse<StreamBinding>(expected), h.Binding.BindStream(clientId, browserId, out _));
    }

    [Fact]
    public async Task BindStream_SessionHandshakenWithoutCookie_IsNeverBound()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync(Harness.Http(null));

        Assert.Equal(StreamBinding.NotBound, h.Binding.BindStream(clientId, Browser, out _));
        Assert.Equal(StreamBinding.NotBound, h.Binding.BindStream(clientId, null, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    public void BindStream_UnknownSession(string? clientId)
    {
        using var h = new Harness();

        Assert.Equal(StreamBinding.UnknownSession, h.Binding.BindStream(clientId, Browser, out _));
    }

    [Fact]
    public void AttachingAnotherPushTarget_ReleasesThePreviousOne()
    {
        using var h = new Harness();
        var session = h.Registry.Create(Browser, null);
        var first = new PushTarget();
        var second = new PushTarget();
        session.AttachPushTarget(first);

        session.AttachPushTarget(second);
        session.AttachPushTarget(second); // attaching again releases nobody

        Assert.Equal(1, first.Releases);
        Assert.Equal(0, second.Releases);
    }

    [Fact]
    public void EndingTheSession_ReleasesItsPushTarget()
    {
        using var h = new Harness();
        var session = h.Registry.Create(Browser, null);
        var target = new PushTarget();
        session.AttachPushTarget(target);

        h.Registry.Terminate(session, TerminationReason.Disconnected);

        Assert.Equal(1, target.Releases);
    }

    [Fact]
    public void DrainAndDetach_TakesWhatIsQueued_AndLaterMessagesWaitForTheNextConnection()
    {
        using var h = new Harness();
        var session = h.Registry.Create(Browser, null);
        var target = new PushTarget();
        session.AttachPushTarget(target);
        var before = Msg("1");
        session.Deliver(before);

        var events = new List<EncodedMessage>();
        session.DrainAndDetach(target, events);
        var after = Msg("2");
        session.Deliver(after);

        Assert.Same(before, Assert.Single(events));
        Assert.Equal(1, target.Calls); // only the first delivery woke it
        Assert.Equal(1, session.QueuedCount);
        var next = new PushTarget();
        session.AttachPushTarget(next);
        var resumed = new List<EncodedMessage>();
        session.Drain(next, resumed);
        Assert.Same(after, Assert.Single(resumed));
    }

    [Fact]
    public void DrainAndDetach_ByATargetThatNoLongerPushes_TakesNothing()
    {
        using var h = new Harness();
        var session = h.Registry.Create(Browser, null);
        var old = new PushTarget();
        var current = new PushTarget();
        session.AttachPushTarget(old);
        session.AttachPushTarget(current);
        session.Deliver(Msg("1"));

        var events = new List<EncodedMessage>();
        session.DrainAndDetach(old, events);

        Assert.Empty(events);
        session.Drain(current, events);
        Assert.Single(events);
    }
}
