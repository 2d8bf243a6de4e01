using System.Text.Json;
using System.Text.Json.Serialization;
using Halley.Engine;
using Halley.Sessions;

namespace Halley.Server.Samples.Chat;

/// <summary>
/// The chat sample's one piece of backend, <c>/service/samples/chat/history</c>: a page that joins a room asks it for
/// the room's recent messages (<c>{"room":"lobby"}</c> → <c>{"messages":[{"data":…,"position":"…"}…]}</c>, oldest
/// first), read from the engine's history of <c>/samples/chat/{room}</c>, so it works the same on every node of a
/// cluster. A page subscribes first and asks second, then drops the live messages the answer already holds (by
/// their positions, compared for equality only): no gap and no duplicate between the history and what follows.
/// </summary>
/// <remarks>
/// The service reads only the sample's room channels, never a channel a caller names: a page could otherwise read
/// the history of any channel through it. How much a room keeps is its history rule's business
/// (<c>Halley:History:Channels:/samples/chat/*</c> in <c>halley serve</c>'s appsettings.json).
/// </remarks>
internal sealed class ChatHistoryService(MessageHub hub)
{
    /// <summary>The service channel.</summary>
    public const string Channel = "/service/samples/chat/history";

    /// <summary>The prefix of a room's channel: the room <c>lobby</c> talks on <c>/samples/chat/lobby</c>.</summary>
    public const string RoomPrefix = "/samples/chat/";

    /// <summary>The history rule's pattern: every room's channel, not their presence channels.</summary>
    public const string RoomPattern = RoomPrefix + "*";

    /// <summary>What a room keeps, unless the configuration has its own rule for <see cref="RoomPattern"/>.</summary>
    public static HistoryRule RoomHistory => new() { Size = MaxMessages, Ttl = TimeSpan.FromHours(1) };

    /// <summary>Most messages one answer holds: the newest ones.</summary>
    public const int MaxMessages = 100;

    // The default rule keeps far fewer; a read of this many is one page however the rule is configured.
    private const int ReadLimit = 1_000;

    /// <summary>Answers a call; a request without a valid room gets <c>{"error":"invalid_room"}</c>, not a failure.</summary>
    public async ValueTask<object?> HandleAsync(BayeuxServiceCall call, CancellationToken cancellationToken)
    {
        if (!TryReadRoom(call.Data, out var room))
        {
            return new HistoryAnswer([], "invalid_room");
        }
        var page = await hub.ReadHistoryAsync([RoomPrefix + room], since: null, ReadLimit, cancellationToken).ConfigureAwait(false);
        var newest = page.Messages.Skip(Math.Max(0, page.Messages.Count - MaxMessages));
        return new HistoryAnswer([.. newest.Select(ToEntry)], null);
    }

    /// <summary>A room is one channel segment of lowercase letters, digits, '-' and '_', at most 40 characters.</summary>
    internal static bool IsValidRoom(string? room) =>
        room is { Length: > 0 and <= 40 } && room.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    private static bool TryReadRoom(JsonElement data, out string room)
    {
        room = "";
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("room", out var value)
            || value.ValueKind != JsonValueKind.String || !IsValidRoom(value.GetString()))
        {
            return false;
        }
        room = value.GetString()!;
        return true;
    }

    private static HistoryEntry ToEntry(EncodedMessage message)
    {
        // The encoded message is the Bayeux event ({"channel":…,"data":…}); its data goes back as it was published.
        using var document = JsonDocument.Parse(message.Json);
        var data = document.RootElement.TryGetProperty("data", out var value) ? value.Clone() : default;
        return new HistoryEntry(data, message.Position?.ToString());
    }

    private sealed record HistoryAnswer(
        [property: JsonPropertyName("messages")] IReadOnlyList<HistoryEntry> Messages,
        [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

    private sealed record HistoryEntry(
        [property: JsonPropertyName("data")] JsonElement Data,
        [property: JsonPropertyName("position")] string? Position);
}
