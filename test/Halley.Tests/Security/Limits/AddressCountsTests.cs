using System.Net;
using Halley.Security.Limits;

namespace Halley.Tests.Security.Limits;

public class AddressCountsTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void EachAddressHasItsOwnLimit_AndReleasingGivesAPlaceBack()
    {
        var counts = new AddressCounts();
        Assert.True(counts.TryAcquire(A, 2));
        Assert.True(counts.TryAcquire(A, 2));
        Assert.False(counts.TryAcquire(A, 2));
        Assert.True(counts.TryAcquire(B, 2));
        counts.Release(A);
        Assert.True(counts.TryAcquire(A, 2));
        Assert.Equal(2, counts.CountOf(A));
    }

    [Fact]
    public void AnAddressReleasedToZero_LeavesNoEntry_AndANullAddressIsNeverCounted()
    {
        var counts = new AddressCounts();
        Assert.True(counts.TryAcquire(A, 1));
        counts.Release(A);
        counts.Release(A);
        Assert.Equal(0, counts.CountOf(A));
        Assert.True(counts.TryAcquire(A, 1));
        Assert.True(counts.TryAcquire(null, 1));
        Assert.True(counts.TryAcquire(null, 1));
    }

    [Fact]
    public async Task ConcurrentAcquires_NeverExceedTheLimit()
    {
        var counts = new AddressCounts();
        var acquired = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                if (counts.TryAcquire(A, 100))
                {
                    Interlocked.Increment(ref acquired);
                }
            }
        })));
        Assert.Equal(100, acquired);
        Assert.Equal(100, counts.CountOf(A));
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::")]
    public void AddressesAreCountedByHostOrIPv6Slash64(string address, string key) =>
        Assert.Equal(IPAddress.Parse(key), ClientAddress.KeyOf(IPAddress.Parse(address)));
}
