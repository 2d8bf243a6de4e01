using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// A subscriber that keeps everything delivered to it, in order; safe to deliver to from several threads. While a
/// recovery reads history it holds live messages aside, as a session does, so a replay is recorded before them.
/// </summary>
internal class RecordingSubscriber : IRecoveringSubscriber
{
    private readonly Lock _gate = new();
    private readonly List<EncodedMessage> _received = [];
    private readonly Halley.Sessions.RecoveryHold _hold = new();

    public void Deliver(EncodedMessage message)
    {
        lock (_gate)
        {
            if (!_hold.TryHold(message))
            {
                _received.Add(message);
            }
        }
    }

    /// <summary>Holds live messages of <paramref name="keys"/> aside, as a session does while a recovery reads history.</summary>
    public void BeginRecovery(IReadOnlyList<string> keys)
    {
        lock (_gate)
        {
            _hold.Begin(keys);
        }
    }

    /// <summary>Records the replay, then what was held aside.</summary>
    public void EndRecovery(IReadOnlyList<string> keys, IReadOnlyList<EncodedMessage> replay)
    {
        lock (_gate)
        {
            _received.AddRange(replay);
            _hold.End(keys, _received);
        }
    }

    public int Count
    {
        get { lock (_gate) { return _received.Count; } }
    }

    public virtual int QueueRoom => int.MaxValue;

    /// <summary>Holds nothing by default: every recovery replays all it asks for.</summary>
    public virtual void CopyHeldSubscriptions(List<HeldSubscription> into)
    {
    }

    public virtual void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter)
    {
    }

    /// <summary>What was delivered from the <paramref name="start"/>-th message on.</summary>
    public List<EncodedMessage> From(int start)
    {
        lock (_gate)
        {
            return _received[start..];
        }
    }
}

/// <summary>
/// A <see cref="RecordingSubscriber"/> that keeps its subscriptions as a Bayeux session does: the engine tells it
/// from where each new key has its channels' messages, and asks it back at the next recovery. Single-threaded.
/// </summary>
internal sealed class HoldingSubscriber : RecordingSubscriber
{
    private readonly Dictionary<string, long> _held = new(StringComparer.Ordinal);

    public override void CopyHeldSubscriptions(List<HeldSubscription> into)
    {
        foreach (var (key, receivedAfter) in _held)
        {
            into.Add(new HeldSubscription(key, receivedAfter));
        }
    }

    public override void SubscriptionsTookEffect(IReadOnlyList<string> keys, long receivedAfter)
    {
        foreach (var key in keys)
        {
            _held[key] = receivedAfter;
        }
    }

    public void Unsubscribed(string key) => _held.Remove(key);
}

/// <summary>One subscribe call of a reconnect, as the client made it and as the engine answered it.</summary>
internal sealed record SubscribeCall(string[] Keys, IReadOnlyDictionary<string, long> Held, StreamPosition? Since, StreamPosition TopBefore, Recovery Outcome, List<EncodedMessage> Delivered, ExpectedRecovery Expected)
{
    public override string ToString() =>
        $"subscribe [{string.Join(", ", Keys)}] holding [{string.Join(", ", Held.Select(h => $"{h.Key} after {h.Value}"))}] since {Since?.ToString() ?? "-"}: "
        + $"recovered={Outcome.Recovered} at {Outcome.Position}, replayed [{Describe(Delivered)}]; "
        + $"the rules say recovered={Expected.Recovered}, replay [{Describe(Expected.Replay)}]";

    public static string Describe(IEnumerable<EncodedMessage> messages) =>
        string.Join(" ", messages.Select(m => $"{m.Channel}@{m.Position?.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}"));
}

/// <summary>
/// Plays a <see cref="Scenario"/> against the real <see cref="MessageHub"/> (in-memory engine, manual clock):
/// one client subscribed to the scenario's keys comes and goes, a publisher publishes, and every publish and
/// every subscribe call is recorded, along with what <see cref="RetentionModel"/> says each call should do.
/// </summary>
internal sealed class ReconnectingSubscriber : IDisposable
{
    // An engine of its own gives a real foreign epoch: a client that resumes with it must not recover here.
    private static readonly string OtherEpoch = NewEngineEpoch();

    private readonly Harness _harness;
    private readonly Scenario _scenario;
    private readonly RetentionModel _model;
    // What the client holds, by the rules: each key with the offset after which it has its channels' messages.
    private readonly Dictionary<string, long> _held = new(StringComparer.Ordinal);
    private int _payload;

    public ReconnectingSubscriber(Scenario scenario, Func<Microsoft.Extensions.Options.IOptions<HalleyOptions>, TimeProvider, IMessageEngine>? engine = null)
    {
        _scenario = scenario;
        var retention = scenario.Retention;
        var options = new HalleyOptions
        {
            MaxQueue = Math.Max(retention.MaxRecovered, 1000),
            History = new HistoryOptions
            {
                Channels = RecoveryWorld.Rules(retention.PatternSize, retention.NameSize, TimeSpan.FromSeconds(retention.TtlSeconds)),
                MaxRecoveredMessages = retention.MaxRecovered,
            },
        };
        _harness = new Harness(options, engine: engine);
        _model = new RetentionModel(c => RecoveryWorld.SizeOf(c, retention.PatternSize, retention.NameSize), retention.TtlSeconds);
    }

    public MessageHub Engine => _harness.Engine;

    public HoldingSubscriber Client { get; } = new();

    /// <summary>Every message published, in the order the publisher published them.</summary>
    public List<EncodedMessage> Published { get; } = [];

    /// <summary>Every subscribe call the client made, the first (plain) one included.</summary>
    public List<SubscribeCall> Calls { get; } = [];

    /// <summary>
    /// What the client should have received, in order, by the rules: every message of a channel it held when it
    /// was published, and each subscribe call's expected replay where that call was made.
    /// </summary>
    public List<EncodedMessage> Expected { get; } = [];

    /// <summary>Whether some reconnect subscribed in two calls, so the order across channels is not one sequence.</summary>
    public bool Split { get; private set; }

    /// <summary>The offset the client's first subscribe reply gave: it receives what follows.</summary>
    public long Start { get; private set; }

    /// <summary>Subscribes to the keys, plays every step, and returns what the client received.</summary>
    public List<EncodedMessage> Run()
    {
        var first = SubscribeAll(since: null);
        Start = first.Position.Offset;
        var position = first.Position;
        var seen = 0;
        foreach (var step in _scenario.Steps)
        {
            switch (step)
            {
                case Publish publish:
                    PublishNow(publish);
                    break;
                case Disconnect when _held.Count > 0:
                    foreach (var key in _held.Keys)
                    {
                        Assert.True(Engine.Unsubscribe(key, Client));
                        Client.Unsubscribed(key);
                    }
                    _held.Clear();
                    position = LastSeen(position, ref seen);
                    break;
                case Reconnect reconnect when _held.Count == 0:
                    position = ReconnectFrom(reconnect, position);
                    seen = Client.Count;
                    break;
                case Advance advance:
                    _harness.Time.Advance(TimeSpan.FromSeconds(advance.Seconds));
                    _model.Advance(advance.Seconds);
                    break;
                case Sweep:
                    Engine.ExpireHistory();
                    _model.Sweep();
                    break;
            }
        }
        if (_held.Count == 0)
        {
            // The promise is about clients that come back: one that is still away at the end comes back now.
            ReconnectFrom(new Reconnect(Resume.LastSeen, 0, []), LastSeen(position, ref seen));
        }
        return Client.From(0);
    }

    /// <summary>What the client received after its first subscribe that it should have: every message of its channels published since.</summary>
    public List<EncodedMessage> PublishedToClient() =>
        [.. Published.Where(m => RecoveryWorld.MatchesAny(_scenario.Keys, m.Channel) && m.Position!.Value.Offset > Start)];

    public void Dispose() => _harness.Dispose();

    private StreamPosition ReconnectFrom(Reconnect reconnect, StreamPosition lastSeen)
    {
        StreamPosition? From(Resume resume) => resume switch
        {
            Resume.LastSeen => lastSeen,
            Resume.OtherEpoch => lastSeen with { Epoch = OtherEpoch },
            Resume.BeyondTop => lastSeen with { Offset = Engine.Top.Offset + 1 },
            _ => null,
        };
        if (reconnect.Split <= 0 || reconnect.Split >= _scenario.Keys.Length)
        {
            return SubscribeAll(From(reconnect.From)).Position;
        }
        Split = true;
        Subscribe(_scenario.Keys[..reconnect.Split], From(reconnect.FirstFrom ?? reconnect.From));
        foreach (var publish in reconnect.Between)
        {
            PublishNow(publish);
        }
        return Subscribe(_scenario.Keys[reconnect.Split..], From(reconnect.From)).Position;
    }

    private Recovery SubscribeAll(StreamPosition? since) => Subscribe(_scenario.Keys, since);

    private Recovery Subscribe(string[] keys, StreamPosition? since)
    {
        var held = new Dictionary<string, long>(_held, StringComparer.Ordinal);
        var expected = _model.Expect(keys, _held, since, Engine.Epoch, Engine.Top.Offset, _scenario.Retention.MaxRecovered);
        var top = Engine.Top;
        var before = Client.Count;
        var outcome = Engine.Subscribe(keys, Client, since);
        Calls.Add(new SubscribeCall(keys, held, since, top, outcome, Client.From(before), expected));
        Expected.AddRange(expected.Replay);
        foreach (var key in keys)
        {
            // Recovered: the client has everything after the position; otherwise only what follows the top.
            _held[key] = expected.Recovered ? since!.Value.Offset : top.Offset;
        }
        return outcome;
    }

    private void PublishNow(Publish publish)
    {
        for (var i = 0; i < publish.Count; i++)
        {
            var data = System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{++_payload}}}""");
            var publishing = Engine.PublishAsync(publish.Channel, data, default, CancellationToken.None);
            var sent = publishing.IsCompletedSuccessfully ? publishing.Result : throw new InvalidOperationException("The in-memory broker delivers on the publisher's thread.");
            Published.Add(sent);
            _model.Published(sent);
            if (RecoveryWorld.MatchesAny(_held.Keys, publish.Channel))
            {
                Expected.Add(sent);
            }
        }
    }

    // The client's position moves with every message of a history it receives (they arrive in offset order).
    private StreamPosition LastSeen(StreamPosition position, ref int seen)
    {
        foreach (var message in Client.From(seen))
        {
            if (message.Position is { } p && p.Offset > position.Offset)
            {
                position = p;
            }
        }
        seen = Client.Count;
        return position;
    }

    private static string NewEngineEpoch()
    {
        using var other = new Harness();
        return other.Engine.Epoch;
    }
}
