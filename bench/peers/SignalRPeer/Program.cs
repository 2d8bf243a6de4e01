using System.Text.Json;
using Halley.Peers.SignalR;
using Microsoft.AspNetCore.SignalR;

// Benchmark peer: SignalR as users run it (JSON hub protocol, default hub options), one hub at /hub, and the
// endpoint a web application's backend would publish through:
//   POST /publish?channel=x  the body (a JSON value) is sent as "m" to group x through IHubContext; 200 once the
//                            group send completed (every member's write was accepted by its connection).
// Usage: dotnet SignalRPeer.dll --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateBuilder(args);

// Quiet: warnings and errors only, plus the one "Now listening on:" line a harness can wait for.
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

builder.Services.AddSignalR();

var app = builder.Build();

app.MapHub<PeerHub>("/hub", options =>
{
    // The one deviation from the defaults: the outbound (server -> client) buffer per connection. At the
    // default 64 KiB a fan-out burst to a client that lags by a few hundred messages makes the group send
    // wait for that client, so one slow reader throttles Publish for everyone. 1 MiB is only ever used by a
    // connection that lags; an idle or keeping-up connection holds nothing.
    options.TransportMaxBufferSize = 1024 * 1024;
});

// A backend publishing through SignalR: the hub context's group send, the same call as PeerHub.Publish.
app.MapPost("/publish", async (HttpContext context, IHubContext<PeerHub> hub) =>
{
    string? channel = context.Request.Query["channel"];
    if (string.IsNullOrEmpty(channel))
    {
        return Results.BadRequest();
    }

    JsonElement payload;
    try
    {
        payload = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body, cancellationToken: context.RequestAborted);
    }
    catch (JsonException)
    {
        return Results.BadRequest();
    }

    await hub.Clients.Group(channel).SendAsync("m", payload, context.RequestAborted);
    return Results.Ok();
});

app.Run();
