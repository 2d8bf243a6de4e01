using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Halley.Client.Internal;

namespace Halley.Client.Tests.Fakes;

/// <summary>
/// A tiny in-memory Bayeux server speaking the Halley dialect over a WebSocket-like fake transport, so the
/// client's session logic (id matching, dispatch, resume, re-handshake) is testable without a real server.
/// </summary>
internal sealed class FakeBayeuxServer
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly List<Action> _heldHandshakes = [];
    private bool _holdHandshakes;
    private int _nextClient;

    public ConcurrentQueue<JsonElement> Received { get; } = new();

    /// <summary>Raised for every message the fake receives, after it is logged in <see cref="Received"/>.</summary>
    public event Action<JsonElement>? MessageReceived;

    public int Handshakes { get; private set; }

    /// <summary>When set, every connect is held, even one that asks for an immediate answer (<c>advice.timeout</c> 0).</summary>
    public bool HoldEveryConnect { get; set; }

    /// <summary>When set, a publish to a channel for which it returns an error string fails with it.</summary>
    public Func<string, string?>? PublishError { get; set; }

    /// <summary>
    /// When set, a message for which it returns true is logged (and raised) but never answered, as if the server had
    /// not read it before closing the socket: the request stays in flight on the client.
    /// </summary>
    public Func<JsonElement, bool>? LeaveUnanswered { get; set; }

    /// <summary>When set, successful subscribe replies carry it as <c>ext.halley.position</c>, with <see cref="SubscribeRecovered"/>.</summary>
    public JsonNode? SubscribePosition { get; set; }

    /// <summary>The <c>ext.halley.recovered</c> of subscribe replies that carry a <see cref="SubscribePosition"/>.</summary>
    public bool SubscribeRecovered { get; set; }

    public List<FakeTransport> Transports { get; } = [];

    public IClientTransport CreateTransport(BayeuxClientOptions options, ITransportSink sink)
    {
        var transport = new FakeTransport(this, sink);
        lock (_gate)
        {
            Transports.Add(transport);
        }

        return transport;
    }

    public IEnumerable<JsonElement> ReceivedOn(string channel) =>
        Received.Where(m => m.GetProperty("channel").GetString() == channel);

    /// <summary>
    /// Forgets every session, as a restarted server would. Held connects get 402, so the client knows at once; with
    /// <paramref name="answerHeldConnects"/> false they stay unanswered, so the client learns only from its next request.
    /// </summary>
    public void ForgetSessions(bool answerHeldConnects = true)
    {
        List<Session> sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
            _sessions.Clear();
        }

        if (!answerHeldConnects)
        {
            return;
        }

        foreach (var session in sessions)
        {
            session.EndHeldConnect(false, "402::session_unknown", "handshake");
        }
    }

    /// <summary>
    /// From now on, handshakes are received (logged in <see cref="Received"/>) but not answered until
    /// <see cref="ReleaseHandshakes"/>: a client re-handshaking stays in recovery as long as the test wants.
    /// </summary>
    public void HoldHandshakes()
    {
        lock (_gate)
        {
            _holdHandshakes = true;
        }
    }

    /// <summary>Answers the handshakes held since <see cref="HoldHandshakes"/>, and every later one at once.</summary>
    public void ReleaseHandshakes()
    {
        List<Action> held;
        lock (_gate)
        {
            _holdHandshakes = false;
            held = [.. _heldHandshakes];
            _heldHandshakes.Clear();
        }

        foreach (var answer in held)
        {
            answer();
        }
    }

    /// <summary>
    /// Does what Halley does when a socket reaches its lifetime: answers each held connect successfully with advice
    /// to reconnect at once. (Closing the socket is the test's next step: <see cref="FakeTransport.CloseNormally"/>.)
    /// </summary>
    public void EndLifetime()
    {
        List<Session> sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
        }

        foreach (var session in sessions)
        {
            session.EndHeldConnect(true, null, "retry", interval: 0);
        }
    }

    /// <summary>
    /// Publishes from "the backend": fans the event out to every matching subscriber, with <paramref name="position"/>
    /// (of any JSON kind, for tests of what the client makes of it) as <c>ext.halley.position</c> when given.
    /// </summary>
    public void Publish(string channel, JsonNode? data, string? id = null, JsonNode? position = null)
    {
        var @event = new JsonObject { ["channel"] = channel, ["data"] = data?.DeepClone(), ["id"] = id ?? Guid.NewGuid().ToString("N") };
        if (position is not null)
        {
            @event["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = position.DeepClone() } };
        }

        List<Session> targets;
        lock (_gate)
        {
            targets = [.. _sessions.Values.Where(s => s.Subscriptions.Any(p => ChannelPattern.Parse(p).Matches(channel)))];
        }

        foreach (var session in targets)
        {
            session.Transport?.Push(new JsonArray(@event.DeepClone()));
        }
    }

    internal void Handle(FakeTransport transport, int generation, JsonElement message)
    {
        Received.Enqueue(message);
        MessageReceived?.Invoke(message);
        if (LeaveUnanswered?.Invoke(message) == true)
        {
            return;
        }

        var channel = message.GetProperty("channel").GetString()!;
        var id = message.TryGetProperty("id", out var i) ? i.GetString() : null;
        var clientId = message.TryGetProperty("clientId", out var c) ? c.GetString() : null;
        var reply = new JsonObject { ["channel"] = channel, ["id"] = id };

        if (channel == "/meta/handshake")
        {
            lock (_gate)
            {
                if (_holdHandshakes)
                {
                    _heldHandshakes.Add(() => Handshake(transport, generation, reply));
                    return;
                }
            }

            Handshake(transport, generation, reply);
            return;
        }

        Session? current;
        lock (_gate)
        {
            current = clientId is null ? null : _sessions.GetValueOrDefault(clientId);
        }

        // A new socket serves a session only once the connect carries that session's token.
        var token = message.TryGetProperty("ext", out var ext) && ext.TryGetProperty("halley", out var h) && h.TryGetProperty("token", out var t) ? t.GetString() : null;
        if (current is not null && channel == "/meta/connect" && token == current.Token)
        {
            current.Transport = transport;
            current.Generation = generation;
        }

        if (current is null || current.Transport != transport || current.Generation != generation)
        {
            reply["successful"] = false;
            reply["error"] = "402::session_unknown";
            reply["advice"] = new JsonObject { ["reconnect"] = "handshake", ["interval"] = 0 };
            transport.Push(new JsonArray(reply));
            return;
        }

        switch (channel)
        {
            case "/meta/connect":
                var immediate = !HoldEveryConnect && message.TryGetProperty("advice", out var advice) && advice.TryGetProperty("timeout", out var timeout) && timeout.GetInt32() == 0;
                if (immediate)
                {
                    reply["successful"] = true;
                    reply["advice"] = new JsonObject { ["reconnect"] = "retry", ["interval"] = 0, ["timeout"] = 20000 };
                    transport.Push(new JsonArray(reply));
                }
                else
                {
                    current.Hold(transport, reply);
                }

                return;
            case "/meta/subscribe":
            case "/meta/unsubscribe":
                var subscription = message.GetProperty("subscription").GetString()!;
                lock (_gate)
                {
                    if (channel == "/meta/subscribe")
                    {
                        current.Subscriptions.Add(subscription);
                    }
                    else
                    {
                        current.Subscriptions.Remove(subscription);
                    }
                }

                reply["successful"] = true;
                reply["subscription"] = subscription;
                if (channel == "/meta/subscribe" && SubscribePosition is { } position)
                {
                    reply["ext"] = new JsonObject { ["halley"] = new JsonObject { ["position"] = position.DeepClone(), ["recovered"] = SubscribeRecovered } };
                }

                transport.Push(new JsonArray(reply));
                return;
            case "/meta/disconnect":
                lock (_gate)
                {
                    _sessions.Remove(current.ClientId);
                }

                reply["successful"] = true;
                transport.Push(new JsonArray(reply));
                current.EndHeldConnect(true, null, "none");
                return;
            default:
                var data = JsonNode.Parse(message.GetProperty("data").GetRawText());
                if (PublishError?.Invoke(channel) is { } error)
                {
                    reply["successful"] = false;
                    reply["error"] = error;
                    transport.Push(new JsonArray(reply));
                    return;
                }

                reply["successful"] = true;
                if (channel.StartsWith("/service/", StringComparison.Ordinal))
                {
                    reply["data"] = data;
                    transport.Push(new JsonArray(reply));
                    return;
                }

                transport.Push(new JsonArray(reply));
                Publish(channel, data, id);
                return;
        }
    }

    private void Handshake(FakeTransport transport, int generation, JsonObject reply)
    {
        var session = new Session(Guid.NewGuid().ToString("N"), "token-" + Interlocked.Increment(ref _nextClient)) { Transport = transport, Generation = generation };
        lock (_gate)
        {
            _sessions[session.ClientId] = session;
            Handshakes++;
        }

        reply["successful"] = true;
        reply["clientId"] = session.ClientId;
        reply["version"] = "1.0";
        reply["supportedConnectionTypes"] = new JsonArray("websocket", "long-polling");
        reply["advice"] = new JsonObject { ["reconnect"] = "retry", ["interval"] = 0, ["timeout"] = 20000 };
        reply["ext"] = new JsonObject { ["halley"] = new JsonObject { ["token"] = session.Token } };
        transport.Push(new JsonArray(reply));
    }

    private sealed class Session(string clientId, string token)
    {
        private JsonObject? _heldReply;
        private FakeTransport? _heldOn;

        public string ClientId { get; } = clientId;

        public string Token { get; } = token;

        public HashSet<string> Subscriptions { get; } = new(StringComparer.Ordinal);

        public FakeTransport? Transport { get; set; }

        public int Generation { get; set; }

        public void Hold(FakeTransport transport, JsonObject reply)
        {
            lock (this)
            {
                _heldReply = reply;
                _heldOn = transport;
            }
        }

        public void EndHeldConnect(bool successful, string? error, string reconnect, int? interval = null)
        {
            JsonObject? reply;
            FakeTransport? on;
            lock (this)
            {
                (reply, on, _heldReply, _heldOn) = (_heldReply, _heldOn, null, null);
            }

            if (reply is null || on is null)
            {
                return;
            }

            reply["successful"] = successful;
            if (error is not null)
            {
                reply["error"] = error;
            }

            reply["advice"] = interval is { } ms
                ? new JsonObject { ["reconnect"] = reconnect, ["interval"] = ms }
                : new JsonObject { ["reconnect"] = reconnect };
            on.Push(new JsonArray(reply));
        }
    }
}

/// <summary>A WebSocket stand-in: frames pushed by the fake server reach the client's sink in order.</summary>
internal sealed class FakeTransport(FakeBayeuxServer server, ITransportSink sink) : IClientTransport
{
    private readonly Lock _gate = new();
    private Channel<string>? _frames;
    private bool _everOpened;

    public int Generation { get; private set; }

    public string ConnectionType => "websocket";

    public bool RepliesInResponse => false;

    public ValueTask<bool> OpenAsync(CancellationToken cancellationToken)
    {
        Channel<string> frames;
        bool reopened;
        lock (_gate)
        {
            if (_frames is not null)
            {
                return ValueTask.FromResult(false);
            }

            frames = _frames = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
            Generation++;
            reopened = _everOpened;
            _everOpened = true;
        }

        _ = Task.Run(
            async () =>
        {
            await foreach (var frame in frames.Reader.ReadAllAsync())
            {
                await sink.OnMessagesAsync(MessageCodec.Parse(Encoding.UTF8.GetBytes(frame)), CancellationToken.None);
            }
        },
            CancellationToken.None);
        return ValueTask.FromResult(reopened);
    }

    public Task SendAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        int generation;
        lock (_gate)
        {
            if (_frames is null)
            {
                throw new TransportException("The fake socket is not open.", notSent: true);
            }

            generation = Generation;
        }

        using var document = JsonDocument.Parse(MessageCodec.Encode(messages));
        foreach (var message in document.RootElement.EnumerateArray())
        {
            server.Handle(this, generation, message.Clone());
        }

        return Task.CompletedTask;
    }

    public void Push(JsonArray frame)
    {
        lock (_gate)
        {
            _frames?.Writer.TryWrite(frame.ToJsonString());
        }
    }

    /// <summary>The "network" drops the socket: the client is told, as a real receive loop would.</summary>
    public void Drop()
    {
        lock (_gate)
        {
            _frames?.Writer.TryComplete();
            _frames = null;
        }

        sink.OnConnectionLost(new TransportException("The fake socket dropped."));
    }

    /// <summary>The server closes the socket normally (WebSocket 1000), as Halley does at the end of its lifetime.</summary>
    public void CloseNormally()
    {
        lock (_gate)
        {
            _frames?.Writer.TryComplete();
            _frames = null;
        }

        sink.OnConnectionLost(new TransportException("The fake server closed the socket normally.", closedNormally: true));
    }

    public ValueTask ResetAsync()
    {
        lock (_gate)
        {
            _frames?.Writer.TryComplete();
            _frames = null;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ResetAsync();
}
