using System.Text.Json;
using Halley.Http;
using Halley.Security;
using Halley.Sessions;
using Microsoft.AspNetCore.Http;

namespace Halley.Api;

/// <summary>
/// <c>POST /api/disconnect</c> <c>{"clientId":"…"}</c>: ends a client's session from the backend (a logout, a ban).
/// Its held connect is answered with <c>402::session_unknown</c> and advice to handshake, as for any lost session;
/// a client that comes back resubscribes from its positions and recovers what it missed.
/// </summary>
internal sealed class DisconnectApi(SessionRegistry sessions, ApiKeyAuthorization authorization)
{
    private const int MaxBody = 4096;

    public async Task HandleAsync(HttpContext context)
    {
        if (!await authorization.AuthorizeAsync(context, ApiKeyAuthorization.DisconnectScope).ConfigureAwait(false))
        {
            return;
        }
        var (status, body) = await HttpBatchReader.ReadAsync(context.Request, MaxBody, context.RequestAborted).ConfigureAwait(false);
        if (status == HttpBatchReader.Status.TooLarge || !TryReadClientId(body, out var clientId))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "Expected a JSON object with a string 'clientId'.").ConfigureAwait(false);
            return;
        }
        if (!sessions.TryGet(clientId, out var session))
        {
            await HttpResponses.WriteStatusAsync(context, StatusCodes.Status404NotFound, "No session with that clientId on this node.").ConfigureAwait(false);
            return;
        }
        sessions.Terminate(session, TerminationReason.Kicked);
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("clientId"u8, clientId);
        writer.WriteBoolean("disconnected"u8, true);
        writer.WriteEndObject();
    }

    private static bool TryReadClientId(ReadOnlyMemory<byte> body, out string clientId)
    {
        clientId = "";
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("clientId", out var id) && id.ValueKind == JsonValueKind.String)
            {
                clientId = id.GetString()!;
                return true;
            }
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
