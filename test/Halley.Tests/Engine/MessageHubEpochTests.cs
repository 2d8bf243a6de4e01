using System.Text;
using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>
/// When the engine lost something at run time: where a subscription takes effect after its history was lost (a Redis
/// restarted without persistence starts a new epoch whose offsets begin again): never at an offset of the old epoch;
/// and who is told when messages were lost on their way to the node.
/// </summary>
public class MessageHubEpochTests
{
    /// <summary>An engine whose epoch and cursor the test moves by hand, and which hands messages when told to.</summary>
    private sealed class SteppedEngine : IMessageEngine
    {
        public IEngineListener? Listener { get; private set; }

        public string Epoch => Cursor.Epoch;

        public bool HasHistory => true;

        public StreamPosition Cursor { get; set; } = new("aaaa", 0);

        public void Start(IEngineListener listener) => Listener = listener;

        public ValueTask<StreamPosition?> PublishAsync(EncodedMessage message, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The test hands messages itself.");

        public ValueTask DeclareInterestAsync(string channelOrPattern, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WithdrawInterestAsync(string channelOrPattern, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<HistoryResult> ReadHistoryAsync(HistoryQuery query, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new HistoryResult([], Complete: false, Truncated: false, Cursor));

        public void Sweep()
        {
        }
    }

    private sealed class Recorder : ISubscriber
    {
        public List<EncodedMessage> Messages { get; } = [];

        public int TimesToldOfLoss { get; private set; }

        public void Deliver(EncodedMessage message) => Messages.Add(message);

        public void MessagesLost() => TimesToldOfLoss++;
    }

    private static EncodedMessage Positioned(string channel, StreamPosition position)
    {
        var message = new EncodedMessage(channel, Encoding.UTF8.GetBytes($$"""{"channel":"{{channel}}","data":1}"""));
        message.AssignPosition(position);
        return message;
    }

    [Fact]
    public async Task AfterANewEpoch_ASubscriptionTakesEffectAtTheNewCursor_NotAtTheLastOffsetFannedOutBeforeIt()
    {
        using var harness = new Harness();
        var engine = new SteppedEngine();
        var hub = new MessageHub(engine, harness.Metrics, Microsoft.Extensions.Options.Options.Create(new HalleyOptions()));
        var first = new Recorder();
        await hub.SubscribeAsync("/a", first);

        // Fanned out at aaaa:100 while the engine's cursor still says aaaa:0 (its move comes after the hand-on).
        engine.Listener!.OnMessage(Positioned("/a", new StreamPosition("aaaa", 100)));
        Assert.Single(first.Messages);
        var sameEpoch = await hub.SubscribeAsync(["/b"], new Recorder(), since: null);
        Assert.Equal(new StreamPosition("aaaa", 100), sameEpoch.Position);

        // The history is lost: a new epoch, counting from the start again.
        engine.Cursor = new StreamPosition("bbbb", 3);
        var newEpoch = await hub.SubscribeAsync(["/c"], new Recorder(), since: null);

        Assert.Equal(new StreamPosition("bbbb", 3), newEpoch.Position);
    }

    [Fact]
    public async Task MessagesLostOnTheirWay_AreToldOnceToEachSubscriberOfTheKeys_AndToNoOneElse()
    {
        using var harness = new Harness();
        var engine = new SteppedEngine();
        var hub = new MessageHub(engine, harness.Metrics, Microsoft.Extensions.Options.Options.Create(new HalleyOptions()));
        var both = new Recorder();
        var exact = new Recorder();
        var other = new Recorder();
        await hub.SubscribeAsync("/a/b", both);
        await hub.SubscribeAsync("/a/**", both);
        await hub.SubscribeAsync("/a/b", exact);
        await hub.SubscribeAsync("/c", other);

        engine.Listener!.OnMessagesLost(["/a/b", "/a/**"]);

        Assert.Equal(1, both.TimesToldOfLoss);
        Assert.Equal(1, exact.TimesToldOfLoss);
        Assert.Equal(0, other.TimesToldOfLoss);
    }
}
