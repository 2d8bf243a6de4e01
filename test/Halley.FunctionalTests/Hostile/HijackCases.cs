using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Hostile;

/// <summary>
/// Hijack attempts: another connection or browser acting with a victim session's client id, with a token that is not
/// the victim's, or with the victim's id on a Faye eventsource stream. Each must be refused, and the victim must carry
/// on as if nothing happened (its session still subscribes).
/// </summary>
internal static class HijackCases
{
    public static IEnumerable<HostileCase> All()
    {
        (string Name, Func<string, string, JsonObject> Message)[] messages =
        [
            ("connect", (id, _) => new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = id, ["connectionType"] = "long-polling", ["advice"] = new JsonObject { ["timeout"] = 0 } }),
            ("subscribe", (id, _) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id, ["subscription"] = "/victim/secret" }),
            ("unsubscribe", (id, _) => new JsonObject { ["channel"] = "/meta/unsubscribe", ["clientId"] = id, ["subscription"] = "/victim" }),
            ("publish", (id, _) => new JsonObject { ["channel"] = "/victim", ["clientId"] = id, ["data"] = "forged" }),
            ("disconnect", (id, _) => new JsonObject { ["channel"] = "/meta/disconnect", ["clientId"] = id }),
            ("own-token", (id, own) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id, ["subscription"] = "/x", ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = own } } }),
            ("forged-token", (id, _) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id, ["subscription"] = "/x", ["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = new string('0', 32) } } }),
            ("token-misplaced", (id, own) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id, ["subscription"] = "/x", ["ext"] = new JsonObject { ["token"] = own } }),
            ("id-uppercased", (id, _) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id.ToUpperInvariant(), ["subscription"] = "/x" }),
            ("id-truncated", (id, _) => new JsonObject { ["channel"] = "/meta/subscribe", ["clientId"] = id[..^1], ["subscription"] = "/x" }),
        ];
        foreach (var (name, message) in messages)
        {
            yield return new($"hijack/http-{name}", Answer.BayeuxError, t => OverHttpAsync(t, message));
            yield return new($"hijack/ws-{name}", Answer.BayeuxError, t => OverWebSocketAsync(t, message));
        }
        yield return new("hijack/eventsource-stream", Answer.Http4xx, t => WithVictimAsync(t, (victim, _) =>
            t.GetAsync("/cometd/" + victim.ClientId, ("Accept", "text/event-stream"))));
    }

    /// <summary>From another browser (its own cookie jar and session) over long-polling.</summary>
    private static Task<Outcome> OverHttpAsync(HostileTarget target, Func<string, string, JsonObject> message) =>
        WithVictimAsync(target, async (victim, ownToken) =>
        {
            using var attacker = new BayeuxHttp(target.Server);
            await attacker.HandshakeAsync();
            using var response = await attacker.PostRawAsync(new JsonArray(message(victim.ClientId!, ownToken)).ToJsonString());
            return HostileTarget.ClassifyReplies(await response.Content.ReadAsStringAsync());
        });

    /// <summary>From another socket (with a session of its own).</summary>
    private static Task<Outcome> OverWebSocketAsync(HostileTarget target, Func<string, string, JsonObject> message) =>
        WithVictimAsync(target, async (victim, ownToken) =>
        {
            await using var attacker = await BayeuxSocket.ConnectAsync(target.Server);
            await attacker.HandshakeAsync();
            var forged = message(victim.ClientId!, attacker.Token!);
            forged["id"] = "forged";
            await attacker.SendAsync(forged);
            var reply = await attacker.ReplyAsync("forged");
            return HostileTarget.ClassifyReplies(new JsonArray(reply.DeepClone()).ToJsonString());
        });

    /// <summary>Runs an attack on a fresh victim session, then checks the victim still works.</summary>
    private static async Task<Outcome> WithVictimAsync(HostileTarget target, Func<BayeuxSocket, string, Task<Outcome>> attack)
    {
        await using var victim = await BayeuxSocket.ConnectAsync(target.Server);
        await victim.HandshakeAsync();
        // Another session's token: valid, but not the victim's.
        using var bystander = new BayeuxHttp(target.Server);
        var handshake = await bystander.HandshakeAsync();
        var outcome = await attack(victim, handshake["ext"]!["halley"]!["token"]!.GetValue<string>());
        var after = await victim.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = "/victim/still-mine" });
        return after["successful"]!.GetValue<bool>()
            ? outcome
            : Outcome.Unexpected("the victim's session no longer works after the attack: " + after.ToJsonString());
    }
}
