using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Halley.FunctionalTests.Infrastructure;

/// <summary>A raw Bayeux WebSocket client: sends arrays, collects every received frame.</summary>
public sealed class BayeuxSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<JsonArray> _frames = Channel.CreateUnbounded<JsonArray>();
    private readonly List<JsonObject> _backlog = [];
    private Task? _receiver;
    private HttpMessageInvoker? _invoker;
    private int _nextId;

    public string? ClientId { get; set; }

    public string? Token { get; private set; }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public WebSocketState State => _socket.State;

    /// <summary>
    /// Opens a socket; <paramref name="bearer"/> goes in an <c>Authorization</c> header, <paramref name="query"/> after
    /// the path; <paramref name="from"/> is the loopback address it leaves from (the default one if null).
    /// </summary>
    public static async Task<BayeuxSocket> ConnectAsync(TestServer server, string? cookie = null, string? bearer = null, string? query = null, System.Net.IPAddress? from = null)
    {
        var socket = new BayeuxSocket();
        if (cookie is not null)
        {
            socket._socket.Options.SetRequestHeader("Cookie", cookie);
        }
        if (bearer is not null)
        {
            socket._socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }
        var uri = query is null ? server.WebSocketUri : new UriBuilder(server.WebSocketUri) { Query = query }.Uri;
        if (from is null)
        {
            await socket._socket.ConnectAsync(uri, CancellationToken.None).Within();
        }
        else
        {
            // Kept (and disposed) with the socket: it owns the connection the socket runs on.
            socket._invoker = new HttpMessageInvoker(FromAddress.Handler(from));
            await socket._socket.ConnectAsync(uri, socket._invoker, CancellationToken.None).Within();
        }
        socket._receiver = socket.ReceiveLoopAsync();
        return socket;
    }

    public string NextId() => "ws" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Task SendAsync(params JsonObject[] messages) => SendRawAsync(new JsonArray(messages).ToJsonString());

    public async Task SendRawAsync(string text) =>
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Within();

    public async Task SendBinaryAsync(byte[] bytes) =>
        await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None).Within();

    /// <summary>The next received frame, whole.</summary>
    public async Task<JsonArray> NextFrameAsync() => await _frames.Reader.ReadAsync().AsTask().Within();

    /// <summary>Waits for the first received message (across frames) that matches; earlier ones stay available.</summary>
    public async Task<JsonObject> WaitForAsync(Func<JsonObject, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeouts.Default);
        while (true)
        {
            var found = _backlog.FirstOrDefault(match);
            if (found is not null)
            {
                _backlog.Remove(found);
                return found;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("No matching message arrived; received: " + string.Join(", ", _backlog.Select(m => m.ToJsonString())));
            }
            var frame = await _frames.Reader.ReadAsync().AsTask().WaitAsync(left);
            _backlog.AddRange(frame.Select(m => m!.AsObject()));
        }
    }

    public Task<JsonObject> ReplyAsync(string id) => WaitForAsync(m => m["id"]?.GetValue<string>() == id && m["successful"] is not null);

    public async Task<JsonObject> HandshakeAsync(JsonObject? ext = null)
    {
        var id = NextId();
        var message = new JsonObject
        {
            ["channel"] = "/meta/handshake",
            ["version"] = "1.0",
            ["supportedConnectionTypes"] = new JsonArray("websocket"),
            ["id"] = id,
        };
        if (ext is not null)
        {
            message["ext"] = ext;
        }
        await SendAsync(message);
        var reply = await ReplyAsync(id);
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        ClientId = reply["clientId"]!.GetValue<string>();
        Token = reply["ext"]?["halley"]?["token"]?.GetValue<string>();
        return reply;
    }

    /// <summary>Sends one message and returns its reply.</summary>
    public async Task<JsonObject> RequestAsync(JsonObject message)
    {
        var id = NextId();
        message["id"] = id;
        message["clientId"] ??= ClientId;
        await SendAsync(message);
        return await ReplyAsync(id);
    }

    /// <summary>Handshakes, subscribes to <paramref name="channel"/> (its reply carries a position) and holds a connect, so events are pushed at once.</summary>
    public static async Task<BayeuxSocket> OpenSubscribedAsync(TestServer server, string channel)
    {
        var socket = await ConnectAsync(server);
        await socket.HandshakeAsync();
        var reply = await socket.RequestAsync(new JsonObject { ["channel"] = "/meta/subscribe", ["subscription"] = channel });
        Assert.True(reply["successful"]!.GetValue<bool>(), reply.ToJsonString());
        Assert.NotNull(reply["ext"]?["halley"]?["position"]);
        await socket.ConnectAndHoldAsync();
        return socket;
    }

    /// <summary>Sends a connect answered at once, then one the server holds, so events are pushed at once.</summary>
    public async Task ConnectAndHoldAsync()
    {
        var connect = await RequestAsync(new JsonObject { ["channel"] = "/meta/connect", ["connectionType"] = "websocket", ["advice"] = new JsonObject { ["timeout"] = 0 } });
        Assert.True(connect["successful"]!.GetValue<bool>());
        await SendAsync(new JsonObject { ["channel"] = "/meta/connect", ["clientId"] = ClientId, ["connectionType"] = "websocket", ["id"] = NextId() });
    }

    /// <summary>Drops the connection without a close handshake, as a dead network would.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Waits until the server closes the socket.</summary>
    public async Task WaitClosedAsync()
    {
        await _receiver!.Within();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                _frames.Writer.TryWrite(JsonNode.Parse(buffer.AsSpan(0, length))!.AsArray());
            }
        }
        catch (WebSocketException)
        {
            // Aborted by the server; the test inspects the state.
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is WebSocketException or TimeoutException)
            {
                // Best effort.
            }
        }
        _socket.Dispose();
        _invoker?.Dispose();
    }
}
