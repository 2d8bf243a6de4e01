using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Halley.Peers.KestrelWebSocket;

// Benchmark peer: the floor under every push server on ASP.NET Core. No protocol at all:
//   GET  /ws?channel=x       WebSocket upgrade; the socket joins channel x until it closes.
//   POST /publish?channel=x  the body is sent, as one text message, to every socket of channel x; 200 once queued.
// Usage: dotnet KestrelWebSocketPeer.dll --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateBuilder(args);

builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

var app = builder.Build();
var channels = new ChannelMap();

// Default WebSocketOptions: keep-alive pings every 2 minutes, as for any ASP.NET Core WebSocket app.
app.UseWebSockets();

app.Map("/ws", async (HttpContext context) =>
{
    string? channel = context.Request.Query["channel"];
    if (!context.WebSockets.IsWebSocketRequest || string.IsNullOrEmpty(channel))
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var subscriber = new Subscriber(socket);
    channels.Add(channel, subscriber);
    try
    {
        await subscriber.ReceiveUntilClosedAsync(context.RequestAborted);
    }
    catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
    {
        // The client went away; normal.
    }
    finally
    {
        channels.Remove(channel, subscriber);
    }
});

app.MapPost("/publish", async (HttpContext context) =>
{
    string? channel = context.Request.Query["channel"];
    if (string.IsNullOrEmpty(channel))
    {
        return Results.BadRequest();
    }

    // Read the whole body once: these bytes are what every subscriber gets.
    var reader = context.Request.BodyReader;
    byte[] payload;
    // Bounded by the body: each pass examines what arrived until the client finished sending.
    while (true)
    {
        var read = await reader.ReadAsync(context.RequestAborted);
        if (read.IsCompleted || read.IsCanceled)
        {
            payload = read.Buffer.ToArray();
            reader.AdvanceTo(read.Buffer.End);
            break;
        }

        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
    }

    channels.Publish(channel, payload);
    return Results.Ok();
});

app.Run();
