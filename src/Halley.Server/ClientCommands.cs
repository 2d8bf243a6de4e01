using System.CommandLine;
using System.Text.Json;
using Halley.Client;

namespace Halley.Server;

/// <summary><c>halley publish</c> and <c>halley subscribe</c>: a Bayeux client on the command line, built on Halley.Client.</summary>
internal static class ClientCommands
{
    private static Option<Uri> UrlOption() => new("--url")
    {
        Description = "The server's Bayeux endpoint.",
        DefaultValueFactory = _ => new Uri(HalleyServerApp.DefaultUrl + "/cometd"),
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                return uri;
            }
            result.AddError($"--url must be an absolute http(s) URL such as {HalleyServerApp.DefaultUrl}/cometd, not '{text}'.");
            return null;
        },
    };

    private static Option<BayeuxTransport> TransportOption() => new("--transport")
    {
        Description = "WebSocket or LongPolling.",
        DefaultValueFactory = _ => BayeuxTransport.WebSocket,
    };

    public static Command Publish()
    {
        var channel = new Argument<string>("channel") { Description = "A concrete channel, e.g. /chat/room1." };
        var json = new Argument<string>("json") { Description = "The message data as JSON, e.g. '{\"text\":\"hi\"}'." };
        var url = UrlOption();
        var transport = TransportOption();
        var command = new Command("publish", "Publishes one message and exits.") { channel, json, url, transport };
        command.SetAction(async (parse, cancellationToken) =>
        {
            JsonElement data;
            try
            {
                data = JsonSerializer.Deserialize<JsonElement>(parse.GetRequiredValue(json));
            }
            catch (JsonException ex)
            {
                await Console.Error.WriteLineAsync($"error: the data is not valid JSON: {ex.Message}").ConfigureAwait(false);
                return 2;
            }
            await using var client = NewClient(parse.GetRequiredValue(url), parse.GetValue(transport));
            try
            {
                await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
                await client.PublishAsync(parse.GetRequiredValue(channel), data, cancellationToken).ConfigureAwait(false);
                await client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is BayeuxException or HttpRequestException or System.Net.WebSockets.WebSocketException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    public static Command Subscribe()
    {
        var channel = new Argument<string>("channel") { Description = "A channel or pattern: /chat/room1, /chat/* (one level), /chat/** (any depth)." };
        var count = new Option<int?>("--count") { Description = "Exit after this many messages (default: run until Ctrl-C)." };
        var url = UrlOption();
        var transport = TransportOption();
        var command = new Command("subscribe", "Prints each message as one JSON line {\"channel\",\"data\"} as it arrives; Ctrl-C ends it.") { channel, count, url, transport };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var limit = parse.GetValue(count);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var received = 0;
            await using var client = NewClient(parse.GetRequiredValue(url), parse.GetValue(transport));
            try
            {
                await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
                await using var subscription = await client.SubscribeAsync(parse.GetRequiredValue(channel), message =>
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(new { channel = message.Channel, data = message.Data }, HalleyServerApp.PrintOptions));
                    Console.Out.Flush();
                    if (limit is { } n && ++received >= n)
                    {
                        done.TrySetResult();
                    }
                }, cancellationToken).ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"subscribed to {parse.GetRequiredValue(channel)}").ConfigureAwait(false);
                await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex) when (ex is BayeuxException or HttpRequestException or System.Net.WebSockets.WebSocketException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static BayeuxClient NewClient(Uri url, BayeuxTransport transport) => new(new BayeuxClientOptions { Endpoint = url, Transport = transport });
}
