using System.Buffers;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Halley.LoadTest.Protocols;

/// <summary>
/// Bayeux long-polling: every client of the process shares one <see cref="SocketsHttpHandler"/> and one cookie
/// jar (Halley binds sessions to the <c>BAYEUX_BROWSER</c> cookie; one browser id for all of them is fine, and
/// it is seeded up front so concurrent handshakes do not each get a different one). Each client keeps one
/// <c>/meta/connect</c> held and sends the next as soon as it is answered.
/// </summary>
public sealed class BayeuxLongPollingProtocol : IPushProtocol
{
    private readonly HttpClient _http;
    private readonly CookieContainer _cookies = new();
    private readonly HashSet<string> _seeded = [];

    public BayeuxLongPollingProtocol(string name)
    {
        Name = name;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            CookieContainer = _cookies,
            UseCookies = true,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        })
        {
            // Connects are held (20 s on Halley, up to 60 s on Faye): each request gets its own bounded token.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Name { get; }

    public IPushConnection CreateConnection(Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame = null)
    {
        Seed(target);
        return new BayeuxLongPollingConnection(_http, target, onMessage, onFrame);
    }

    public IPushPublisher CreatePublisher(Uri target) =>
        // Publishing over a WebSocket session works the same on Halley and Faye and needs no held poll.
        new BayeuxWebSocketProtocol(Name).CreatePublisher(target);

    public IPushPublisher CreateHttpPublisher(Uri target) => BayeuxWebSocketProtocol.CreateHttpPublisher(Name, target);

    private void Seed(Uri target)
    {
        lock (_seeded)
        {
            if (_seeded.Add(target.GetLeftPart(UriPartial.Authority)))
            {
                Span<byte> bytes = stackalloc byte[16];
                RandomNumberGenerator.Fill(bytes);
                _cookies.Add(new Uri(target.GetLeftPart(UriPartial.Authority)), new Cookie("BAYEUX_BROWSER", Convert.ToHexStringLower(bytes), "/"));
            }
        }
    }
}

internal sealed class BayeuxLongPollingConnection(HttpClient http, Uri target, Action<ReadOnlyMemory<byte>> onMessage, Action<int>? onFrame)
    : IPushConnection, IPushConnectionState
{
    private const string ConnectionType = "long-polling";
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(90);

    private readonly CancellationTokenSource _stop = new();
    private string _clientId = "";
    private long _nextId = 1;
    private Task? _loop;
    private volatile bool _disposed;

    public bool IsClosed { get; private set; }

    public string? CloseReason { get; private set; }

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await PostAsync(BayeuxWire.Handshake(ConnectionType), cancellationToken, (in BayeuxMessage m, ref string? error) =>
        {
            if (m.Kind == BayeuxChannelKind.Handshake)
            {
                if (m.Successful == true && m.ClientId is not null)
                {
                    _clientId = m.ClientId;
                }
                else
                {
                    error = BayeuxWire.Describe(m, "handshake");
                }
            }
        });
        if (_clientId.Length == 0)
        {
            throw new InvalidOperationException("handshake: no reply");
        }
        await PostAsync(BayeuxWire.Connect(_clientId, ConnectionType, immediate: true, NextId()), cancellationToken, CheckConnect);
        _loop = Task.Run(PollLoopAsync, CancellationToken.None);
    }

    public async Task SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        var answered = false;
        await PostAsync(BayeuxWire.Subscribe(_clientId, channel, NextId()), cancellationToken, (in BayeuxMessage m, ref string? error) =>
        {
            if (m.Kind == BayeuxChannelKind.Subscribe)
            {
                answered = true;
                if (m.Successful != true)
                {
                    error = BayeuxWire.Describe(m, "subscribe");
                }
            }
        });
        if (!answered)
        {
            throw new InvalidOperationException("subscribe: no reply");
        }
    }

    private long NextId() => Interlocked.Increment(ref _nextId);

    private static void CheckConnect(in BayeuxMessage m, ref string? error)
    {
        if (m.Kind == BayeuxChannelKind.Connect && (m.Successful != true || m.Reconnect == "none"))
        {
            error = BayeuxWire.Describe(m, "connect");
        }
    }

    private async Task PollLoopAsync()
    {
        var token = _stop.Token;
        string? reason;
        try
        {
            while (true)
            {
                await PostAsync(BayeuxWire.Connect(_clientId, ConnectionType, immediate: false, NextId()), token, CheckConnect);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or OperationCanceledException or System.Text.Json.JsonException)
        {
            reason = ex.Message;
        }
        if (!_disposed)
        {
            CloseReason = reason;
            IsClosed = true;
        }
    }

    private delegate void ReplyHandler(in BayeuxMessage message, ref string? error);

    /// <summary>POSTs one batch; hands events to the subscriber and replies to <paramref name="onReply"/>.</summary>
    private async Task PostAsync(byte[] body, CancellationToken cancellationToken, ReplyHandler onReply)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                RentedBuffer.EnsureRoom(ref buffer, length);
                var read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            string? error = null;
            var events = 0;
            var reader = new BayeuxFrameReader(buffer.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.IsEvent)
                {
                    events++;
                    onMessage(buffer.AsMemory(message.DataStart, message.DataLength));
                }
                else
                {
                    onReply(message, ref error);
                }
            }
            if (events > 0)
            {
                onFrame?.Invoke(events);
            }
            if (error is not null)
            {
                throw new InvalidOperationException(error);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_clientId.Length > 0)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await PostAsync(BayeuxWire.Disconnect(_clientId), timeout.Token, static (in BayeuxMessage _, ref string? _) => { });
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
            {
                // Best effort.
            }
        }
        _stop.Dispose();
    }
}
