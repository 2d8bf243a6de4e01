using Halley.Client.Internal;

namespace Halley.Client.Tests.Internal;

public class BackoffTests
{
    [Fact]
    public void DoublesFromInitialUpToTheCap()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

        var delays = Enumerable.Range(0, 7).Select(_ => backoff.Next().TotalMilliseconds).ToArray();

        Assert.Equal([100, 200, 400, 800, 1000, 1000, 1000], delays);
    }

    [Fact]
    public void NeverOverflowsForLargeAttempts()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(5), backoff.DelayFor(64));
        Assert.Equal(TimeSpan.FromSeconds(5), backoff.DelayFor(int.MaxValue));
    }

    [Fact]
    public void ResetStartsOver()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(5));
        backoff.Next();
        backoff.Next();

        backoff.Reset();

        Assert.Equal(Backoff.DefaultInitial, backoff.Next());
    }

    [Fact]
    public void ZeroCapMeansNoWait() =>
        Assert.Equal(TimeSpan.Zero, new Backoff(TimeSpan.Zero).Next());
}
