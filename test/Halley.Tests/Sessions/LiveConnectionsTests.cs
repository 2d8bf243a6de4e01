using Halley.Sessions;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Sessions;

/// <summary>The shared sweep over long-lived connections visits only those whose next look has come.</summary>
public class LiveConnectionsTests
{
    private sealed class Connection(Func<long, long> next) : ILiveConnection
    {
        public List<long> Looks { get; } = [];

        public long OnSweep(long now)
        {
            Looks.Add(now);
            return next(now);
        }
    }

    private static (LiveConnections Connections, ManualTimeProvider Time) Create()
    {
        var time = new ManualTimeProvider();
        return (new LiveConnections(Microsoft.Extensions.Options.Options.Create(new HalleyOptions()), time), time);
    }

    [Fact]
    public void ANewConnection_IsLookedAtByTheNextSweep_ThenOnlyWhenItSaidItWouldBeDue()
    {
        var (connections, time) = Create();
        var tenSeconds = connections.ToTicks(TimeSpan.FromSeconds(10));
        var connection = new Connection(now => now + tenSeconds);
        connections.Add(connection);

        connections.Sweep();
        Assert.Single(connection.Looks);

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        connections.Sweep();
        Assert.Single(connection.Looks);

        time.AdvanceTicks(1);
        connections.Sweep();
        Assert.Equal(2, connection.Looks.Count);
    }

    [Fact]
    public void ADeadlineSetOutsideTheSweep_BringsTheNextLookForward()
    {
        var (connections, time) = Create();
        var connection = new Connection(_ => long.MaxValue);
        connections.Add(connection);
        connections.Sweep();

        connections.DueBy(connection, connections.Now + connections.ToTicks(TimeSpan.FromSeconds(5)));
        time.Advance(TimeSpan.FromSeconds(4));
        connections.Sweep();
        Assert.Single(connection.Looks);

        time.Advance(TimeSpan.FromSeconds(1));
        connections.Sweep();
        Assert.Equal(2, connection.Looks.Count);
    }

    [Fact]
    public void ARemovedConnection_IsNeverLookedAtAgain_AndItsSlotIsReused()
    {
        var (connections, time) = Create();
        var gone = new Connection(now => now);
        var stays = new Connection(now => now);
        connections.Add(gone);
        connections.Add(stays);
        connections.Remove(gone);
        connections.Remove(gone);
        Assert.Equal(1, connections.SweepSlots);

        var fresh = new Connection(now => now);
        connections.Add(fresh);
        connections.Add(fresh);
        Assert.Equal(2, connections.SweepSlots);
        Assert.Equal(2, connections.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        connections.Sweep();
        Assert.Empty(gone.Looks);
        Assert.Single(stays.Looks);
        Assert.Single(fresh.Looks);
    }

    [Fact]
    public void TheClock_SaysItsNextHeartbeatOrClose_AndForgetsTheCloseOnceReported()
    {
        var clock = new LiveClock(openedAt: 100, closeAt: 1_000, heartbeatTicks: 300);
        Assert.Equal(400, clock.NextDue());

        clock.Sent(900);
        Assert.Equal(1_000, clock.NextDue());

        Assert.Equal(LiveDue.Close, clock.Check(1_000));
        Assert.Equal(1_200, clock.NextDue());
    }
}
