using System.Text.Json.Nodes;
using Halley.Extensions;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.FunctionalTests;

/// <summary>
/// Host extensions registered with AddExtension, through a real server: one stamps the ext of every reply, one
/// refuses publishes to /readonly/**. A refused publish gets an error reply and reaches no subscriber; the built-in
/// extensions keep working beside them.
/// </summary>
public sealed class ExtensionTests
{
    /// <summary>Stamps every reply, meta or not, with <c>ext.stamp</c>.</summary>
    private sealed class StampingExtension : IBayeuxExtension
    {
        public void SendMeta(BayeuxExtensionMessage reply) => Stamp(reply);

        public void Send(BayeuxExtensionMessage reply) => Stamp(reply);

        private static void Stamp(BayeuxExtensionMessage reply) => (reply.Ext ??= [])["stamp"] = "host";
    }

    /// <summary>Clients may read /readonly/** but not publish there.</summary>
    private sealed class ReadOnlyChannelsExtension : IBayeuxExtension
    {
        public bool Receive(BayeuxExtensionMessage message) => !message.Channel.StartsWith("/readonly/", StringComparison.Ordinal);
    }

    private static Task<TestServer> StartAsync() =>
        TestServer.StartAsync(b => b.Services.AddHalley().AddExtension<StampingExtension>().AddExtension<ReadOnlyChannelsExtension>());

    [Fact]
    public async Task LongPolling_RepliesAreStamped_AndARefusedPublishReachesNoSubscriber()
    {
        await using var server = await StartAsync();
        using var reader = new BayeuxHttp(server);
        using var writer = new BayeuxHttp(server);

        var handshake = await reader.HandshakeAsync(new JsonObject { ["ack"] = true });
        var ext = handshake["ext"]!.AsObject();
        // The host's stamp comes before the built-ins' keys: its outgoing hook runs before theirs.
        Assert.Equal(["halley", "stamp", "ack"], ext.Select(p => p.Key));
        Assert.Equal("host", ext["stamp"]!.GetValue<string>());
        await reader.SubscribeAsync("/readonly/news", "/open");
        await writer.HandshakeAsync();

        var refused = (await writer.SendAsync(writer.Publish("/readonly/news", new JsonObject { ["n"] = 1 })))[0]!;
        Assert.False(refused["successful"]!.GetValue<bool>());
        Assert.Equal("403:/readonly/news:refused_by_extension", refused["error"]!.GetValue<string>());
        Assert.Equal("host", refused["ext"]!["stamp"]!.GetValue<string>());

        var accepted = (await writer.SendAsync(writer.Publish("/open", new JsonObject { ["n"] = 2 })))[0]!;
        Assert.True(accepted["successful"]!.GetValue<bool>(), accepted.ToJsonString());
        Assert.Equal("host", accepted["ext"]!["stamp"]!.GetValue<string>());

        var batch = await reader.SendAsync(reader.Connect(timeoutMs: 0));
        var connect = batch[0]!;
        Assert.Equal("host", connect["ext"]!["stamp"]!.GetValue<string>());
        Assert.Equal(1, connect["ext"]!["ack"]!.GetValue<long>());
        var events = batch.Skip(1).ToList();
        var only = Assert.Single(events);
        Assert.Equal("/open", only!["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebSocket_RefusedPublish_GetsItsErrorReply_AndTheSocketGoesOn()
    {
        await using var server = await StartAsync();
        await using var socket = await BayeuxSocket.ConnectAsync(server);
        await socket.HandshakeAsync();

        var refused = await socket.RequestAsync(new JsonObject { ["channel"] = "/readonly/news", ["data"] = 1 });
        Assert.Equal("403:/readonly/news:refused_by_extension", refused["error"]!.GetValue<string>());

        var subscribed = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/open" });
        Assert.True(subscribed["successful"]!.GetValue<bool>(), subscribed.ToJsonString());
        Assert.Equal("host", subscribed["ext"]!["stamp"]!.GetValue<string>());
    }
}
