using System.Text.Json;
using Halley.Engine;
using Halley.Protocol;
using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Sessions;

public class BayeuxProcessorTests
{
    private const string Browser = "0123456789abcdef0123456789abcdef";
    private const string OtherBrowser = "fedcba9876543210fedcba9876543210";

    private static async Task<BayeuxReply> SendOneAsync(Harness h, string json, TransportContext? context = null)
    {
        var (replies, _) = await h.SendAsync(json, context);
        return Assert.Single(replies);
    }

    [Fact]
    public async Task Handshake_Succeeds_WithClientIdAdviceAndToken()
    {
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(20), Interval = TimeSpan.Zero, MaxInterval = TimeSpan.FromSeconds(10) });

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","id":"1","version":"1.0","supportedConnectionTypes":["long-polling"]}""");

        Assert.True(reply.Successful);
        Assert.Matches("^[0-9a-f]{32}$", reply.ClientId);
        Assert.True(h.Registry.TryGet(reply.ClientId, out var session));
        Assert.Equal(Browser, session.BrowserId);
        var json = Wire.Parse(reply);
        Assert.Equal("1", json.GetProperty("id").GetString());
        Assert.Equal("1.0", json.GetProperty("version").GetString());
        var advice = json.GetProperty("advice");
        Assert.Equal("retry", advice.GetProperty("reconnect").GetString());
        Assert.Equal(0, advice.GetProperty("interval").GetInt64());
        Assert.Equal(20000, advice.GetProperty("timeout").GetInt64());
        Assert.Equal(10000, advice.GetProperty("maxInterval").GetInt64());
        Assert.Equal(session.Token, json.GetProperty("ext").GetProperty("halley").GetProperty("token").GetString());
    }

    [Fact]
    public async Task Handshake_BatchedWithAnotherMessage_FailsEveryMessage()
    {
        using var h = new Harness();

        var (replies, connect) = await h.SendAsync("""[{"channel":"/meta/handshake","id":"1"},{"channel":"/a","id":"2","data":1},{"channel":"/meta/connect","id":"3"}]""");

        Assert.Null(connect);
        Assert.Equal(3, replies.Count);
        Assert.All(replies, r =>
        {
            Assert.False(r.Successful);
            Assert.Equal("400::handshake_must_be_sent_alone", r.Error);
        });
        Assert.Equal(["/meta/handshake", "/a", "/meta/connect"], replies.Select(r => r.Channel));
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task UnknownClientId_Is402_WithHandshakeAdvice()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"channel":"/meta/connect","clientId":"00000000000000000000000000000000","connectionType":"long-polling"}""");

        Assert.False(reply.Successful);
        Assert.Equal("402::session_unknown", reply.Error);
        Assert.Equal(ReconnectAdvice.Handshake, reply.Advice!.Reconnect);
        Assert.Equal(0, reply.Advice.Interval);
    }

    [Fact]
    public async Task MissingChannel_Is400()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"id":"1","data":1}""");

        Assert.Equal("400::missing_channel", reply.Error);
    }

    [Fact]
    public async Task InvalidMessage_IsAnsweredWithItsError()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","ext":"bad"}""");

        Assert.False(reply.Successful);
        Assert.Equal("400::invalid_field_ext", reply.Error);
        Assert.Equal(0, h.Registry.Count);
    }

    [Theory]
    [InlineData("""{"channel":"/meta/handshake","id":"1","supportedConnectionTypes":["long-polling"]}""")]
    [InlineData("""{"channel":"/meta/handshake","id":"1","version":null,"supportedConnectionTypes":["long-polling"]}""")]
    public async Task Handshake_WithoutVersion_IsRefused(string json)
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, json);

        Assert.False(reply.Successful);
        Assert.Equal("400::version_missing", reply.Error);
        Assert.Equal(ReconnectAdvice.Stop, reply.Advice!.Reconnect);
        Assert.Null(reply.ClientId);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task DuplicateChannel_IsRefused_AndCreatesNoSession()
    {
        using var h = new Harness();

        // Read as the last value, this publish would be a handshake.
        var reply = await SendOneAsync(h, """{"channel":"/a/b","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}""");

        Assert.False(reply.Successful);
        Assert.Equal("400::duplicate_field_channel", reply.Error);
        Assert.Null(reply.ClientId);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task Session_FromOtherBrowser_IsRefused_WhenCookieRequired()
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = true } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""", Harness.Http(OtherBrowser));

        Assert.False(reply.Successful);
        Assert.Equal("402::session_unknown", reply.Error);
        Assert.Equal(0, h.Engine.SubscribedKeyCount);
    }

    [Fact]
    public async Task Session_WithoutBrowserCookie_IsRefused_WhenCookieRequired()
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = true } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""", Harness.Http(null));

        Assert.Equal("402::session_unknown", reply.Error);
    }

    [Fact]
    public async Task Session_FromSameBrowser_IsAccepted()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""", Harness.Http(Browser));

        Assert.True(reply.Successful, reply.Error);
    }

    [Fact]
    public async Task Session_FromOtherBrowser_IsAccepted_WhenCookieNotRequired()
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = false } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""", Harness.Http(OtherBrowser));

        Assert.True(reply.Successful, reply.Error);
        Assert.Equal(1, h.Engine.SubscribedKeyCount);
    }

    [Fact]
    public async Task Session_FromOtherBrowser_IsAccepted_WithHandshakeToken()
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = true } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));
        Assert.True(h.Registry.TryGet(clientId, out var session));

        var reply = await SendOneAsync(
            h,
            $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a","ext":{"halley":{"token":"{{session.Token}}"} } }""",
            Harness.Http(OtherBrowser));

        Assert.True(reply.Successful, reply.Error);
    }

    [Fact]
    public async Task Session_FromOtherBrowser_IsRefused_WithWrongToken()
    {
        using var h = new Harness(new HalleyOptions { SessionBinding = { RequireBrowserCookie = true } });
        var clientId = await h.HandshakeAsync(Harness.Http(Browser));

        var reply = await SendOneAsync(
            h,
            $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a","ext":{"halley":{"token":"{{new string('0', 32)}}"} } }""",
            Harness.Http(OtherBrowser));

        Assert.Equal("402::session_unknown", reply.Error);
    }

    [Fact]
    public async Task Session_OnOwningWebSocket_IsAccepted_WithoutCookie()
    {
        using var h = new Harness();
        var socket = new FakeCarrier();
        var ws = new TransportContext { ConnectionType = ConnectionTypes.WebSocket, Carrier = socket };
        var clientId = await h.HandshakeAsync(ws);

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""", ws);

        Assert.True(reply.Successful, reply.Error);
    }

    private static TransportContext CookielessSocket() => new() { ConnectionType = ConnectionTypes.WebSocket, Carrier = new FakeCarrier() };

    /// <summary>An HTTP handshake listing what Faye lists; returns the client id.</summary>
    private static async Task<string> FayeHandshakeAsync(Harness h, string connectionTypes = """["websocket","eventsource","long-polling","callback-polling"]""")
    {
        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":{{connectionTypes}}}""", Harness.Http(Browser));
        Assert.True(reply.Successful, reply.Error);
        return reply.ClientId!;
    }

    /// <summary>Sends a connect that is answered at once (<c>advice.timeout</c> 0) and returns its reply, or its refusal.</summary>
    private static async Task<BayeuxReply> ConnectAsync(Harness h, string clientId, TransportContext context)
    {
        var type = context.Carrier is null ? ConnectionTypes.LongPolling : ConnectionTypes.WebSocket;
        var (replies, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"{{type}}","advice":{"timeout":0} }""", context);
        if (pending is null)
        {
            return Assert.Single(replies);
        }
        Assert.Empty(replies);
        return h.Processor.CompleteConnect(pending, await pending.Held.Outcome, []);
    }

    [Fact]
    public async Task HttpSession_IsClaimedByACookielessSocket_AfterItsFirstConnectsOverHttp()
    {
        // Faye's socket opened late: its first connects went over long-polling, and it speaks only now.
        using var h = new Harness();
        var clientId = await FayeHandshakeAsync(h);
        Assert.True((await ConnectAsync(h, clientId, Harness.Http(Browser))).Successful);
        Assert.True((await ConnectAsync(h, clientId, Harness.Http(Browser))).Successful);

        var claimed = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.True(claimed.Successful, claimed.Error);
    }

    [Fact]
    public async Task HttpSession_IsClaimedOnlyOnce()
    {
        using var h = new Harness();
        var clientId = await FayeHandshakeAsync(h);
        Assert.True((await ConnectAsync(h, clientId, CookielessSocket())).Successful);

        var second = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.Equal("402::session_unknown", second.Error);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    public async Task HttpSession_ClaimWindow_EndsTimeoutPlusMaxIntervalAfterTheHandshake(long ticksFromEnd, bool claimed)
    {
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(20), MaxInterval = TimeSpan.FromSeconds(10) });
        var clientId = await FayeHandshakeAsync(h);
        // The client keeps the session alive over long-polling meanwhile.
        for (var i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(9));
            Assert.True((await ConnectAsync(h, clientId, Harness.Http(Browser))).Successful);
        }
        h.Time.AdvanceTicks(TimeSpan.FromSeconds(3).Ticks + ticksFromEnd); // 30 s after the handshake, give or take

        var reply = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.Equal(claimed, reply.Successful);
    }

    [Fact]
    public async Task HttpSession_WithASocketBoundByItsCookie_CannotBeClaimed()
    {
        using var h = new Harness();
        var clientId = await FayeHandshakeAsync(h);
        var browserSocket = new TransportContext { ConnectionType = ConnectionTypes.WebSocket, Carrier = new FakeCarrier(), BrowserId = Browser };
        Assert.True((await ConnectAsync(h, clientId, browserSocket)).Successful);

        var reply = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.Equal("402::session_unknown", reply.Error);
    }

    private sealed class NullPushTarget : IPushTarget
    {
        public void MessagesAvailable()
        {
        }

        public void Released()
        {
        }
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task SocketSessionEndedAtItsLifetime_IsClaimedByTheNextCookielessSocket_UnlessItConnectedFirst(bool connectsFirst, bool claimed)
    {
        // CometD's next socket after the server's lifetime close carries neither cookie nor token.
        using var h = new Harness();
        var first = CookielessSocket();
        var handshake = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"]}""", first);
        var clientId = handshake.ClientId!;
        Assert.Equal("402::session_unknown", (await ConnectAsync(h, clientId, CookielessSocket())).Error);
        Assert.True(h.Registry.TryGet(clientId, out var session));
        var target = new NullPushTarget();
        Assert.True(session.AttachPushTarget(target));
        session.DrainAndDetach(target, []);
        if (connectsFirst)
        {
            Assert.True((await ConnectAsync(h, clientId, first)).Successful);
        }

        var reply = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.Equal(claimed, reply.Successful);
    }

    [Theory]
    [InlineData("""["long-polling","callback-polling"]""", false)]
    [InlineData("""["long-polling","websocket"]""", true)]
    public async Task HttpSession_IsClaimable_OnlyWhenItsHandshakeOffersWebSocket(string connectionTypes, bool claimed)
    {
        using var h = new Harness();
        var clientId = await FayeHandshakeAsync(h, connectionTypes);

        var reply = await ConnectAsync(h, clientId, CookielessSocket());

        Assert.Equal(claimed, reply.Successful);
    }

    [Theory]
    [InlineData("/meta/x", "403:/meta/x:meta_channels_are_not_subscribable")]
    [InlineData("/meta/connect", "403:/meta/connect:meta_channels_are_not_subscribable")]
    [InlineData("/service/x", "403:/service/x:service_channels_are_not_broadcast")]
    [InlineData("/service/**", "403:/service/**:service_channels_are_not_broadcast")]
    public async Task Subscribe_ToMetaOrServiceChannel_IsForbidden(string channel, string error)
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"{{channel}}"}""");

        Assert.False(reply.Successful);
        Assert.Equal(error, reply.Error);
        Assert.Equal(0, h.Engine.SubscribedKeyCount);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("/a//b")]
    [InlineData("/a/*/b")]
    [InlineData("/a b")]
    public async Task Subscribe_ToInvalidName_Is400(string channel)
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"{{channel}}"}""");

        Assert.False(reply.Successful);
        Assert.Equal($"400:{channel}:invalid_channel", reply.Error);
    }

    [Fact]
    public async Task Subscribe_WithoutSubscription_Is400()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":[]}""");

        Assert.Equal("400::missing_subscription", reply.Error);
    }

    [Fact]
    public async Task Subscribe_BeyondLimit_IsForbidden()
    {
        using var h = new Harness(new HalleyOptions { MaxSubscriptionsPerSession = 2 });
        var clientId = await h.HandshakeAsync();
        var ok = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":["/a","/b"]}""");
        Assert.True(ok.Successful, ok.Error);

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/c"}""");

        Assert.False(reply.Successful);
        Assert.Equal("403:2:too_many_subscriptions", reply.Error);
        Assert.Equal(2, h.Engine.SubscribedKeyCount);
    }

    [Fact]
    public async Task Subscribe_PartlyBeyondLimit_SubscribesNoneOfTheRequest()
    {
        using var h = new Harness(new HalleyOptions { MaxSubscriptionsPerSession = 2 });
        var clientId = await h.HandshakeAsync();
        var ok = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""");
        Assert.True(ok.Successful, ok.Error);

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":["/b","/c"]}""");

        Assert.Equal("403:2:too_many_subscriptions", reply.Error);
        Assert.Equal(1, h.Engine.SubscribedKeyCount);
        Assert.True(h.Registry.TryGet(clientId, out var session));
        Assert.Equal(1, session.SubscriptionCount);
    }

    [Fact]
    public async Task Subscribe_ReplyEchoesSubscriptionForm()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var single = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","id":"s1","clientId":"{{clientId}}","subscription":"/a"}""");
        var array = await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","id":"s2","clientId":"{{clientId}}","subscription":["/b"]}""");

        Assert.Equal($$"""{"channel":"/meta/subscribe","id":"s1","clientId":"{{clientId}}","successful":true,"subscription":"/a"}""", Wire.Write(single));
        Assert.Equal($$"""{"channel":"/meta/subscribe","id":"s2","clientId":"{{clientId}}","successful":true,"subscription":["/b"]}""", Wire.Write(array));
    }

    [Fact]
    public async Task Unsubscribe_RemovesFromEngine()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""");
        Assert.Equal(1, h.Engine.SubscribedKeyCount);

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/unsubscribe","clientId":"{{clientId}}","subscription":"/a"}""");

        Assert.True(reply.Successful, reply.Error);
        Assert.Equal(0, h.Engine.SubscribedKeyCount);
    }

    [Theory]
    [InlineData("/a/*")]
    [InlineData("/a/**")]
    [InlineData("/**")]
    public async Task Publish_ToWildcard_IsForbidden(string channel)
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"{{channel}}","clientId":"{{clientId}}","data":1}""");

        Assert.False(reply.Successful);
        Assert.Equal($"403:{channel}:publish_to_wildcard", reply.Error);
    }

    [Fact]
    public async Task Publish_ToUnknownMetaChannel_Is400()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/foo","clientId":"{{clientId}}","data":1}""");

        Assert.False(reply.Successful);
        Assert.Equal("400:/meta/foo:unknown_meta_channel", reply.Error);
    }

    [Fact]
    public async Task Publish_ToInvalidChannel_Is400()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/a//b","clientId":"{{clientId}}","data":1}""");

        Assert.Equal("400:/a//b:invalid_channel", reply.Error);
    }

    [Fact]
    public async Task Publish_WithoutData_Is400()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/a/b","clientId":"{{clientId}}"}""");

        Assert.False(reply.Successful);
        Assert.Equal("400::missing_data", reply.Error);
    }

    [Fact]
    public async Task Publish_ReachesSubscriber_AndIsAcknowledged()
    {
        using var h = new Harness();
        var publisher = await h.HandshakeAsync();
        var subscriber = await h.HandshakeAsync();
        await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{subscriber}}","subscription":"/chat/*"}""");

        var reply = await SendOneAsync(h, $$$"""{"channel":"/chat/room","id":7,"clientId":"{{{publisher}}}","data":{"text":"hi"}}""");

        Assert.Equal($$"""{"channel":"/chat/room","id":7,"clientId":"{{publisher}}","successful":true}""", Wire.Write(reply));
        Assert.True(h.Registry.TryGet(subscriber, out var session));
        Assert.Equal(1, session.QueuedCount);
    }

    [Fact]
    public async Task ServiceChannel_ReturnsHandlerData()
    {
        var services = new ServiceChannelOptions();
        BayeuxServiceCall? seen = null;
        services.Handlers["/service/echo"] = (call, _) =>
        {
            seen = call;
            return ValueTask.FromResult<object?>(new { echo = call.Data.GetProperty("v").GetInt32() + 1 });
        };
        using var h = new Harness(services: services);
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$$"""{"channel":"/service/echo","id":"9","clientId":"{{{clientId}}}","data":{"v":41}}""");

        Assert.Equal($$$"""{"channel":"/service/echo","id":"9","clientId":"{{{clientId}}}","successful":true,"data":{"echo":42}}""", Wire.Write(reply));
        Assert.Equal("/service/echo", seen!.Channel);
        Assert.Equal(clientId, seen.ClientId);
    }

    [Fact]
    public async Task ServiceChannel_HandlerReturningNull_RepliesNullData()
    {
        var services = new ServiceChannelOptions();
        services.Handlers["/service/nothing"] = (_, _) => ValueTask.FromResult<object?>(null);
        using var h = new Harness(services: services);
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$$"""{"channel":"/service/nothing","clientId":"{{{clientId}}}","data":{}}""");

        Assert.True(reply.Successful);
        Assert.Equal("null", Wire.Text(reply.DataJson));
    }

    [Fact]
    public async Task ServiceChannel_WithoutHandler_IsAcceptedWithoutData()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var reply = await SendOneAsync(h, $$"""{"channel":"/service/none","clientId":"{{clientId}}","data":1}""");

        Assert.True(reply.Successful);
        Assert.True(reply.DataJson.IsEmpty);
    }

    [Fact]
    public async Task ServiceChannel_HandlerThrows_Is500()
    {
        var services = new ServiceChannelOptions();
        services.Handlers["/service/boom"] = (_, _) => throw new InvalidOperationException("boom");
        services.Handlers["/service/async-boom"] = async (_, _) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        };
        using var h = new Harness(services: services);
        var clientId = await h.HandshakeAsync();

        var sync = await SendOneAsync(h, $$"""{"channel":"/service/boom","clientId":"{{clientId}}","data":1}""");
        var async = await SendOneAsync(h, $$"""{"channel":"/service/async-boom","clientId":"{{clientId}}","data":1}""");

        Assert.False(sync.Successful);
        Assert.Equal("500:/service/boom:service_failed", sync.Error);
        Assert.False(async.Successful);
        Assert.Equal("500:/service/async-boom:service_failed", async.Error);
    }

    [Fact]
    public async Task Disconnect_ThenConnect_Is402()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var bye = await SendOneAsync(h, $$"""{"channel":"/meta/disconnect","clientId":"{{clientId}}"}""");
        var (replies, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling"}""");

        Assert.True(bye.Successful);
        Assert.Null(pending);
        var reply = Assert.Single(replies);
        Assert.False(reply.Successful);
        Assert.Equal("402::session_unknown", reply.Error);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task Disconnect_ReleasesHeldConnect_WithStopAdvice()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling"}""");
        Assert.NotNull(pending);
        Assert.False(pending.Held.IsCompleted);

        await SendOneAsync(h, $$"""{"channel":"/meta/disconnect","clientId":"{{clientId}}"}""");

        var outcome = await pending.Held.Outcome;
        Assert.Equal(ConnectOutcome.Terminated, outcome);
        var reply = h.Processor.CompleteConnect(pending, outcome, []);
        Assert.True(reply.Successful);
        Assert.Equal(ReconnectAdvice.Stop, reply.Advice!.Reconnect);
    }

    [Fact]
    public async Task Connect_IsHeld_AndCompletedWithEvents()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""");
        var (replies, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","id":"c","clientId":"{{clientId}}","connectionType":"long-polling"}""");
        Assert.Empty(replies);
        Assert.NotNull(pending);
        Assert.False(pending.Held.IsCompleted);

        var sent = await h.PublishAsync("/a", "5");
        var outcome = await pending.Held.Outcome;
        var events = new List<EncodedMessage>();
        var reply = h.Processor.CompleteConnect(pending, outcome, events);

        Assert.Equal(ConnectOutcome.Messages, outcome);
        Assert.Same(sent, Assert.Single(events));
        Assert.True(reply.Successful);
        Assert.Equal("c", Wire.Parse(reply).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Connect_WithZeroAdviceTimeout_CompletesAtOnce()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var (_, pending) = await h.SendAsync($$$"""{"channel":"/meta/connect","clientId":"{{{clientId}}}","connectionType":"long-polling","advice":{"timeout":0}}""");

        Assert.NotNull(pending);
        Assert.True(pending.Held.IsCompleted);
    }

    [Fact]
    public async Task Connect_WithUnsupportedConnectionType_Is301()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var (replies, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"flash"}""");

        Assert.Null(pending);
        Assert.Equal("301:flash:connection_type_mismatch", Assert.Single(replies).Error);
    }

    [Fact]
    public async Task Handshake_WithOnlyUnsupportedConnectionTypes_Is301()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["flash"]}""");

        Assert.False(reply.Successful);
        Assert.Equal("301:flash:connection_type_mismatch", reply.Error);
        Assert.Equal(0, h.Registry.Count);
        var json = Wire.Parse(reply);
        Assert.Equal(5, json.GetProperty("supportedConnectionTypes").GetArrayLength());
    }

    [Fact]
    public async Task Handshake_WithVersion2_Is300()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"2.0","supportedConnectionTypes":["long-polling"]}""");

        Assert.False(reply.Successful);
        Assert.Equal("300::version_mismatch", reply.Error);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task Handshake_WithTimesync_EchoesTcAndAddsTsPA()
    {
        using var h = new Harness();
        var serverNow = h.Time.GetUtcNow().ToUnixTimeMilliseconds();

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"timesync":{"tc":1000,"l":5,"o":0}}}""");

        Assert.True(reply.Successful);
        var timesync = Wire.Parse(reply).GetProperty("ext").GetProperty("timesync");
        Assert.Equal(1000, timesync.GetProperty("tc").GetInt64());
        Assert.Equal(JsonValueKind.Number, timesync.GetProperty("ts").ValueKind);
        Assert.Equal(JsonValueKind.Number, timesync.GetProperty("p").ValueKind);
        Assert.Equal(JsonValueKind.Number, timesync.GetProperty("a").ValueKind);
        // The manual clock does not move during the call: no processing time, ts is the server clock.
        Assert.Equal(serverNow, timesync.GetProperty("ts").GetInt64());
        Assert.Equal(0, timesync.GetProperty("p").GetInt64());
        Assert.Equal(serverNow - 1000 - 5, timesync.GetProperty("a").GetInt64());
    }

    [Fact]
    public async Task Handshake_WithAck_EnablesAck()
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"ack":true}}""");

        Assert.True(Wire.Parse(reply).GetProperty("ext").GetProperty("ack").GetBoolean());
        Assert.True(h.Registry.TryGet(reply.ClientId, out var session));
        Assert.True(session.AckEnabled);
    }

    [Fact]
    public async Task Connect_WithAck_NumbersBatchesAndResendsUntilAcknowledged()
    {
        using var h = new Harness();
        var hs = await SendOneAsync(h, """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"ack":true}}""");
        var clientId = hs.ClientId!;
        await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""");
        var m1 = await h.PublishAsync("/a", "1");

        var (_, p1) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling"}""");
        var events1 = new List<EncodedMessage>();
        var r1 = h.Processor.CompleteConnect(p1!, await p1!.Held.Outcome, events1);
        Assert.Equal(1, Wire.Parse(r1).GetProperty("ext").GetProperty("ack").GetInt64());
        Assert.Equal([m1], events1);

        // Client acks batch 0: batch 1 was lost; it is sent again with the new message.
        var m2 = await h.PublishAsync("/a", "2");
        var (_, p2) = await h.SendAsync($$$"""{"channel":"/meta/connect","clientId":"{{{clientId}}}","connectionType":"long-polling","ext":{"ack":0}}""");
        var events2 = new List<EncodedMessage>();
        var r2 = h.Processor.CompleteConnect(p2!, await p2!.Held.Outcome, events2);
        Assert.Equal(2, Wire.Parse(r2).GetProperty("ext").GetProperty("ack").GetInt64());
        Assert.Equal([m1, m2], events2);

        // Client acks batch 2: nothing left to resend, so the connect is held.
        var (_, p3) = await h.SendAsync($$$"""{"channel":"/meta/connect","clientId":"{{{clientId}}}","connectionType":"long-polling","ext":{"ack":2}}""");
        Assert.False(p3!.Held.IsCompleted);
    }

    // Client input must never make the processor throw: a timesync whose tc is not a number is ignored.
    [Theory]
    [InlineData("""{"tc":"abc"}""")]
    [InlineData("""{"tc":1000,"l":"x"}""")]
    [InlineData("""{"tc":true}""")]
    public async Task Handshake_WithNonNumericTimesync_SucceedsWithoutThrowing(string timesync)
    {
        using var h = new Harness();

        var reply = await SendOneAsync(h, $$"""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"timesync":{{timesync}}} }""");

        Assert.True(reply.Successful, reply.Error);
        Assert.Equal(1, h.Registry.Count);
    }

    [Fact]
    public async Task Connect_TwoInOneBatch_FirstFails_SecondIsHeld()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();

        var (replies, pending) = await h.SendAsync($$"""[{"channel":"/meta/connect","id":"1","clientId":"{{clientId}}","connectionType":"long-polling"},{"channel":"/meta/connect","id":"2","clientId":"{{clientId}}","connectionType":"long-polling"}]""");

        var reply = Assert.Single(replies);
        Assert.Equal("400::multiple_connects_in_batch", reply.Error);
        Assert.Equal("\"1\"", Wire.Text(reply.IdJson));
        Assert.NotNull(pending);
        Assert.Equal("\"2\"", Wire.Text(pending.Message.IdJson));
    }

    [Fact]
    public async Task Connect_TimedOutBySweep_RepliesRetry()
    {
        using var h = new Harness(new HalleyOptions { Timeout = TimeSpan.FromSeconds(20) });
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling","advice":{"timeout":5000} }""");

        h.Time.Advance(TimeSpan.FromMilliseconds(4999));
        h.Registry.Sweep();
        Assert.False(pending!.Held.IsCompleted);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        h.Registry.Sweep();

        var outcome = await pending.Held.Outcome;
        Assert.Equal(ConnectOutcome.Timeout, outcome);
        var events = new List<EncodedMessage>();
        var reply = h.Processor.CompleteConnect(pending, outcome, events);
        Assert.True(reply.Successful);
        Assert.Empty(events);
        Assert.Equal(ReconnectAdvice.Retry, reply.Advice!.Reconnect);
        Assert.Equal(20000, reply.Advice.Timeout);
    }

    [Fact]
    public async Task Connect_ExpiredSession_RepliesHandshakeAdvice()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling"}""");
        Assert.True(h.Registry.TryGet(clientId, out var session));

        h.Registry.Terminate(session, TerminationReason.QueueFull);

        var outcome = await pending!.Held.Outcome;
        var reply = h.Processor.CompleteConnect(pending, outcome, []);
        Assert.False(reply.Successful);
        Assert.Equal("402::session_unknown", reply.Error);
        Assert.Equal(ReconnectAdvice.Handshake, reply.Advice!.Reconnect);
    }

    // CompleteConnect drains the queue before it adds timesync: a throw there would lose the drained messages.
    [Fact]
    public async Task Connect_WithNonNumericTimesync_CompletesWithoutThrowing_AndKeepsEvents()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        await SendOneAsync(h, $$"""{"channel":"/meta/subscribe","clientId":"{{clientId}}","subscription":"/a"}""");
        var sent = await h.PublishAsync("/a", "1");
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling","ext":{"timesync":{"tc":"x"} } }""");
        var outcome = await pending!.Held.Outcome;
        var events = new List<EncodedMessage>();

        var error = Record.Exception(() => h.Processor.CompleteConnect(pending, outcome, events));

        Assert.Null(error);
        Assert.Same(sent, Assert.Single(events));
    }

    [Fact]
    public async Task Connect_WithTimesync_RepliesTimesync()
    {
        using var h = new Harness();
        var clientId = await h.HandshakeAsync();
        var (_, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling","ext":{"timesync":{"tc":5,"l":0} } }""");
        h.Time.Advance(TimeSpan.FromMilliseconds(250));
        h.Registry.Sweep();
        var serverNow = h.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var session = pending!.Session;
        session.Deliver(new EncodedMessage("/a", "{}"u8.ToArray()));

        var reply = h.Processor.CompleteConnect(pending, await pending.Held.Outcome, []);

        var timesync = Wire.Parse(reply).GetProperty("ext").GetProperty("timesync");
        Assert.Equal(5, timesync.GetProperty("tc").GetInt64());
        Assert.Equal(250, timesync.GetProperty("p").GetInt64());
        Assert.Equal(serverNow - 250, timesync.GetProperty("ts").GetInt64());
        Assert.Equal(serverNow - 250 - 5, timesync.GetProperty("a").GetInt64());
    }

    /// <summary>A WebSocket as the processor sees it: a carrier that owns sessions, here doing nothing with them.</summary>
    private sealed class FakeCarrier : ISessionCarrier
    {
        public void SessionUsed(BayeuxSession session)
        {
        }
    }
}
