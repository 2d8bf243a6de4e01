using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Halley.FunctionalTests.Hostile;

/// <summary>
/// Two live servers for the corpus, one per WebSocket accept path (connection level, the <c>halley serve</c> default;
/// and the HTTP pipeline), each with a normal client that stays subscribed throughout, and Kestrel's slow-sender
/// limits short enough for the slow cases to end within seconds.
/// </summary>
public sealed class HostileServers : IAsyncLifetime
{
    public Dictionary<string, (HostileTarget Target, BayeuxSocket Normal)> Targets { get; } = [];

    public async Task InitializeAsync()
    {
        foreach (var (name, connectionLevel) in new[] { ("connection-level", true), ("http-pipeline", false) })
        {
            var server = await TestServer.StartAsync(
                builder => builder.WebHost.ConfigureKestrel(kestrel =>
                {
                    kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2);
                    kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 100, gracePeriod: TimeSpan.FromSeconds(2));
                    // An idle connection with no request yet is Kestrel's keep-alive timeout's (130 s by default).
                    kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(3);
                }),
                $"Halley:WebSockets:AcceptAtConnectionLevel={connectionLevel}",
                "Halley:Limits:MessageReadTimeout=00:00:02",
                // The normal client's held connect outlasts the slowest case; each check holds a new one.
                "Halley:Timeout=00:05:00");
            var normal = await BayeuxSocket.ConnectAsync(server);
            await normal.HandshakeAsync();
            var subscribed = await normal.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/normal" });
            Assert.True(subscribed["successful"]!.GetValue<bool>());
            await normal.ConnectAndHoldAsync();
            Targets[name] = (new HostileTarget(server, name), normal);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var (target, normal) in Targets.Values)
        {
            await normal.DisposeAsync();
            await target.Server.DisposeAsync();
        }
    }
}

/// <summary>
/// Runs every case of <see cref="HostileCorpus"/> against a live server: each gets one of the answers it may get (an
/// HTTP 4xx, a Bayeux error, a close), never a 5xx, a success or a hang, and after each one the normal client still
/// publishes and receives its own message, and a new client still handshakes.
/// </summary>
public sealed class HostileCorpusTests(HostileServers servers) : IClassFixture<HostileServers>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in HostileCorpus.Cases.Keys.Order(StringComparer.Ordinal))
        {
            data.Add("connection-level", name);
            if (HostileCorpus.OnBothPaths(name))
            {
                data.Add("http-pipeline", name);
            }
        }
        return data;
    }

    [Fact]
    public void TheCorpusHasAtLeast200Cases() => Assert.True(Cases().Count() >= 200, $"{Cases().Count()} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileInput_IsRefused_AndANormalClientIsServedThroughout(string server, string name)
    {
        var (target, normal) = servers.Targets[server];
        var hostile = HostileCorpus.Cases[name];
        var outcome = await hostile.Run(target).WaitAsync(TimeSpan.FromSeconds(40));
        Assert.True(outcome.Kind is { } kind && (hostile.Expected & kind) != 0,
            $"{name} on {server}: expected {hostile.Expected}, got {outcome.Kind?.ToString() ?? "no refusal"}: {outcome.Detail}");

        // The normal client carries on: its publish is answered and comes back to it.
        await normal.ConnectAndHoldAsync();
        var marker = Guid.NewGuid().ToString("N");
        var published = await normal.RequestAsync(new JsonObject { ["channel"] = "/normal", ["data"] = marker });
        Assert.True(published["successful"]!.GetValue<bool>(), published.ToJsonString());
        await normal.WaitForAsync(m => m["channel"]?.GetValue<string>() == "/normal" && m["data"]?.GetValue<string>() == marker);
        // And a new client is served.
        using var fresh = new BayeuxHttp(target.Server);
        await fresh.HandshakeAsync();
    }
}
