using System.Text.Json;
using Halley.Client.Internal;

namespace Halley.Client.Tests.Internal;

public class PendingRequestsTests
{
    [Fact]
    public void IdsAreIncrementingStrings()
    {
        var pending = new PendingRequests();

        Assert.Equal(["1", "2", "3"], [pending.NextId(), pending.NextId(), pending.NextId()]);
    }

    [Fact]
    public async Task ReplyCompletesTheWaiterWithItsId()
    {
        var pending = new PendingRequests();
        var first = pending.Register("1");
        var second = pending.Register("2");

        Assert.True(pending.TryComplete(Message("""{"channel":"/a","successful":true,"id":"2"}""")));

        Assert.False(first.IsCompleted);
        var reply = await second.WithTimeout();
        Assert.Equal("2", reply.Id);
        Assert.Equal(1, pending.Count);
    }

    [Fact]
    public void ReplyWithUnknownOrMissingIdFindsNoWaiter()
    {
        var pending = new PendingRequests();
        pending.Register("1");

        Assert.False(pending.TryComplete(Message("""{"channel":"/a","successful":true,"id":"7"}""")));
        Assert.False(pending.TryComplete(Message("""{"channel":"/a","successful":true}""")));
        Assert.Equal(1, pending.Count);
    }

    [Fact]
    public void NumericIdMatchesToo()
    {
        var pending = new PendingRequests();
        var waiter = pending.Register("5");

        Assert.True(pending.TryComplete(Message("""{"channel":"/a","successful":true,"id":5}""")));
        Assert.True(waiter.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task FailAllFailsEveryWaiter()
    {
        var pending = new PendingRequests();
        var a = pending.Register("1");
        var b = pending.Register("2");

        pending.FailAll(new TransportException("closed"));

        await Assert.ThrowsAsync<TransportException>(() => a.WithTimeout());
        await Assert.ThrowsAsync<TransportException>(() => b.WithTimeout());
        Assert.Equal(0, pending.Count);
    }

    [Fact]
    public void ForgottenRequestIgnoresItsLateReply()
    {
        var pending = new PendingRequests();
        var waiter = pending.Register("1");
        pending.Forget("1");

        Assert.False(pending.TryComplete(Message("""{"channel":"/a","successful":true,"id":"1"}""")));
        Assert.False(waiter.IsCompleted);
    }

    private static InboundMessage Message(string json) => new(JsonDocument.Parse(json).RootElement.Clone());
}
