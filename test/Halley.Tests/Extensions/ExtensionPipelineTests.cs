using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Extensions;
using Halley.Protocol;
using Halley.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.Tests.Extensions;

/// <summary>
/// The extension pipeline as the processor runs it: incoming hooks in registration order, outgoing hooks in reverse
/// order, the built-in timesync and ack outermost, a refusal answered with an error reply (never dropped), and
/// what a hook changes applied.
/// </summary>
public class ExtensionPipelineTests
{
    private const string Handshake = """{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}""";

    /// <summary>Writes every hook call into a shared log, as "name.Hook channel".</summary>
    private sealed class Recorder(string name, ConcurrentQueue<string> log, Func<BayeuxExtensionMessage, bool>? accept = null) : IBayeuxExtension
    {
        public List<string?> ClientIds { get; } = [];

        public bool ReceiveMeta(BayeuxExtensionMessage message) => Record("ReceiveMeta", message) && (accept?.Invoke(message) ?? true);

        public bool Receive(BayeuxExtensionMessage message) => Record("Receive", message) && (accept?.Invoke(message) ?? true);

        public void SendMeta(BayeuxExtensionMessage reply) => Record("SendMeta", reply);

        public void Send(BayeuxExtensionMessage reply) => Record("Send", reply);

        private bool Record(string hook, BayeuxExtensionMessage message)
        {
            log.Enqueue($"{name}.{hook} {message.Channel}");
            ClientIds.Add(message.ClientId);
            return true;
        }
    }

    /// <summary>Stamps every reply's ext with its name, and remembers which ext keys were there before.</summary>
    private sealed class Stamper(string name) : IBayeuxExtension
    {
        public List<string> SeenBefore { get; } = [];

        public void SendMeta(BayeuxExtensionMessage reply) => Stamp(reply);

        public void Send(BayeuxExtensionMessage reply) => Stamp(reply);

        private void Stamp(BayeuxExtensionMessage reply)
        {
            SeenBefore.Add(string.Join(',', reply.Ext?.Select(p => p.Key) ?? []));
            (reply.Ext ??= [])[name] = true;
        }
    }

    private sealed class Throwing(bool incoming) : IBayeuxExtension
    {
        public bool Receive(BayeuxExtensionMessage message) => incoming ? throw new InvalidOperationException("incoming") : true;

        public void Send(BayeuxExtensionMessage reply)
        {
            if (!incoming)
            {
                throw new InvalidOperationException("outgoing");
            }
        }
    }

    private static async Task<string> HandshakeAsync(Harness h)
    {
        var (replies, _) = await h.SendAsync(Handshake);
        var reply = Assert.Single(replies);
        Assert.True(reply.Successful, reply.Error);
        return reply.ClientId!;
    }

    private static async Task<BayeuxReply> PublishAsync(Harness h, string clientId, string channel, string ext = "{}")
    {
        var (replies, _) = await h.SendAsync($$"""{"channel":"{{channel}}","clientId":"{{clientId}}","data":{"n":1},"ext":{{ext}}}""");
        return Assert.Single(replies);
    }

    [Fact]
    public async Task IncomingHooks_RunInRegistrationOrder_OutgoingInReverse()
    {
        var log = new ConcurrentQueue<string>();
        using var h = new Harness(extensions: [new Recorder("A", log), new Recorder("B", log)]);

        var clientId = await HandshakeAsync(h);
        await PublishAsync(h, clientId, "/chat");

        Assert.Equal(
        [
            "A.ReceiveMeta /meta/handshake", "B.ReceiveMeta /meta/handshake", "B.SendMeta /meta/handshake", "A.SendMeta /meta/handshake",
            "A.Receive /chat", "B.Receive /chat", "B.Send /chat", "A.Send /chat",
        ], log);
    }

    [Fact]
    public async Task HeldConnectReply_GoesThroughTheOutgoingHooks_WhenTheHoldEnds()
    {
        var log = new ConcurrentQueue<string>();
        using var h = new Harness(extensions: [new Recorder("A", log), new Recorder("B", log)]);
        var clientId = await HandshakeAsync(h);
        log.Clear();

        var (replies, pending) = await h.SendAsync($$"""{"channel":"/meta/connect","clientId":"{{clientId}}","connectionType":"long-polling"}""");
        Assert.Empty(replies);
        Assert.Equal(["A.ReceiveMeta /meta/connect", "B.ReceiveMeta /meta/connect"], log);

        h.Processor.CompleteConnect(pending!, Halley.Sessions.ConnectOutcome.Timeout, []);
        Assert.Equal(["A.ReceiveMeta /meta/connect", "B.ReceiveMeta /meta/connect", "B.SendMeta /meta/connect", "A.SendMeta /meta/connect"], log);
    }

    [Fact]
    public async Task BuiltInExtensions_AreOutermost_SoAHostSeesTheReplyBeforeAckAndTimesync()
    {
        var host = new Stamper("host");
        using var h = new Harness(extensions: [host]);

        var (replies, _) = await h.SendAsync("""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"ack":true,"timesync":{"tc":1,"l":0}}}""");

        var ext = Wire.Parse(Assert.Single(replies)).GetProperty("ext");
        Assert.Equal(["halley", "host", "ack", "timesync"], ext.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["halley"], host.SeenBefore);
    }

    [Fact]
    public async Task ClientId_IsTheBoundSession_NullOnTheHandshakeAndForUnknownSessions()
    {
        var log = new ConcurrentQueue<string>();
        var recorder = new Recorder("A", log);
        using var h = new Harness(extensions: [recorder]);

        var clientId = await HandshakeAsync(h);
        await PublishAsync(h, clientId, "/chat");
        var unknown = await PublishAsync(h, "00000000000000000000000000000000", "/chat");

        Assert.Equal(BayeuxErrors.SessionUnknown, unknown.Error);
        // handshake in, handshake reply, publish in, publish reply, and only the reply of the unbound publish.
        Assert.Equal([null, clientId, clientId, clientId, null], recorder.ClientIds);
        Assert.Equal(5, log.Count);
    }

    [Fact]
    public async Task RefusedPublish_GetsAnErrorReply_IsNotPublished_AndLaterExtensionsAreNotAsked()
    {
        var log = new ConcurrentQueue<string>();
        using var h = new Harness(extensions: [new Recorder("A", log, m => m.Channel != "/refused"), new Recorder("B", log)]);
        var clientId = await HandshakeAsync(h);
        var subscriber = await HandshakeAsync(h);
        await h.SendAsync($$"""{"channel":"/meta/subscribe","clientId":"{{subscriber}}","subscription":"/refused"}""");
        log.Clear();

        var reply = await PublishAsync(h, clientId, "/refused");

        Assert.False(reply.Successful);
        Assert.Equal("403:/refused:refused_by_extension", reply.Error);
        Assert.Equal(["A.Receive /refused", "B.Send /refused", "A.Send /refused"], log);
        Assert.True(h.Registry.TryGet(subscriber, out var session));
        Assert.Equal(0, session.QueuedCount);
    }

    [Fact]
    public async Task RefusedHandshake_CreatesNoSession()
    {
        using var h = new Harness(extensions: [new Recorder("A", new(), _ => false)]);

        var (replies, _) = await h.SendAsync(Handshake);

        var reply = Assert.Single(replies);
        Assert.False(reply.Successful);
        Assert.Equal("403:/meta/handshake:refused_by_extension", reply.Error);
        Assert.Null(reply.ClientId);
        Assert.Equal(0, h.Registry.Count);
    }

    [Fact]
    public async Task ThrowingIncomingHook_RefusesTheMessage()
    {
        using var h = new Harness(extensions: [new Throwing(incoming: true)]);
        var clientId = await HandshakeAsync(h);

        var reply = await PublishAsync(h, clientId, "/chat");

        Assert.Equal("403:/chat:refused_by_extension", reply.Error);
    }

    [Fact]
    public async Task ThrowingOutgoingHook_LeavesTheReply_AndTheOuterExtensionsStillRun()
    {
        var outer = new Stamper("outer");
        using var h = new Harness(extensions: [outer, new Throwing(incoming: false)]);
        var clientId = await HandshakeAsync(h);

        var reply = await PublishAsync(h, clientId, "/chat");

        Assert.True(reply.Successful, reply.Error);
        Assert.True(Wire.Parse(reply).GetProperty("ext").GetProperty("outer").GetBoolean());
    }

    /// <summary>Removes a client's ext from subscribes, so the server never sees its (malformed) recovery position.</summary>
    private sealed class ExtStripper : IBayeuxExtension
    {
        public bool ReceiveMeta(BayeuxExtensionMessage message)
        {
            if (message.Channel == MetaChannels.Subscribe)
            {
                Assert.Equal("garbage", message.Ext!["halley"]!["position"]!.GetValue<string>());
                message.Ext = null;
            }
            return true;
        }
    }

    [Fact]
    public async Task IncomingExtChange_IsWhatTheServerActsOn()
    {
        const string subscribe = """{"channel":"/meta/subscribe","clientId":"ID","subscription":"/a","ext":{"halley":{"position":"garbage"}}}""";
        using var plain = new Harness();
        using var stripping = new Harness(extensions: [new ExtStripper()]);

        var (refused, _) = await plain.SendAsync(subscribe.Replace("ID", await HandshakeAsync(plain)));
        var (accepted, _) = await stripping.SendAsync(subscribe.Replace("ID", await HandshakeAsync(stripping)));

        Assert.Equal("400::invalid_position", Assert.Single(refused).Error);
        Assert.True(Assert.Single(accepted).Successful, accepted[0].Error);
    }

    [Fact]
    public async Task Data_IsReadable_OnPublishesAndServiceReplies()
    {
        JsonElement? seen = null;
        using var h = new Harness(extensions: [new Recorder("A", new(), m => { seen = m.Data; return true; })]);
        var clientId = await HandshakeAsync(h);

        await PublishAsync(h, clientId, "/chat");

        Assert.Equal(1, seen!.Value.GetProperty("n").GetInt32());
    }

    private sealed class HostExtension : IBayeuxExtension;

    [Fact]
    public void AddHalley_RegistersTimesyncThenAck_AndAddExtensionAppends()
    {
        var services = new ServiceCollection();
        services.AddHalley().AddExtension<HostExtension>().AddExtension<HostExtension>();

        using var provider = services.BuildServiceProvider();

        Assert.Equal(
            [typeof(TimesyncExtension), typeof(AckExtension), typeof(HostExtension)],
            provider.GetServices<IBayeuxExtension>().Select(e => e.GetType()));
    }
}
