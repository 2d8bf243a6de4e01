using Halley.Channels;

namespace Halley.Tests.Channels;

public class SubscriptionIndexTests
{
    private sealed class Sub(int n)
    {
        public int N { get; } = n;
        public override string ToString() => $"sub{N}";
    }

    [Fact]
    public void Add_Twice_IsIdempotent()
    {
        var index = new SubscriptionIndex<Sub>();
        var s = new Sub(1);

        Assert.True(index.Add("/a", s));
        Assert.False(index.Add("/a", s));

        Assert.Same(s, Assert.Single(index.Get("/a")));
        Assert.Equal(1, index.KeyCount);
    }

    [Fact]
    public void Remove_Twice_IsIdempotent()
    {
        var index = new SubscriptionIndex<Sub>();
        var s = new Sub(1);
        index.Add("/a", s);

        Assert.True(index.Remove("/a", s));
        Assert.False(index.Remove("/a", s));
        Assert.False(index.Remove("/never", s));
        Assert.Empty(index.Get("/a"));
    }

    [Fact]
    public void Remove_UnknownSubscriber_LeavesOthers()
    {
        var index = new SubscriptionIndex<Sub>();
        var s1 = new Sub(1);
        index.Add("/a", s1);

        Assert.False(index.Remove("/a", new Sub(2)));
        Assert.Same(s1, Assert.Single(index.Get("/a")));
    }

    [Fact]
    public void Get_Snapshot_IsUnchangedByLaterWrites()
    {
        var index = new SubscriptionIndex<Sub>();
        var s1 = new Sub(1);
        var s2 = new Sub(2);
        var s3 = new Sub(3);
        index.Add("/a", s1);
        index.Add("/a", s2);

        var snapshot = index.Get("/a");
        index.Add("/a", s3);
        index.Remove("/a", s1);

        Assert.Equal([s1, s2], snapshot);
        Assert.Equal([s2, s3], index.Get("/a"));
    }

    [Fact]
    public void Remove_KeepsOrderOfTheRest()
    {
        var index = new SubscriptionIndex<Sub>();
        var subs = Enumerable.Range(0, 5).Select(i => new Sub(i)).ToArray();
        foreach (var s in subs)
        {
            index.Add("/a", s);
        }

        index.Remove("/a", subs[2]);

        Assert.Equal([subs[0], subs[1], subs[3], subs[4]], index.Get("/a"));
    }

    [Fact]
    public void KeyCount_DropsToZero_AfterLastRemoval()
    {
        var index = new SubscriptionIndex<Sub>();
        var s1 = new Sub(1);
        var s2 = new Sub(2);
        index.Add("/a", s1);
        index.Add("/a", s2);
        index.Add("/b/*", s1);
        Assert.Equal(2, index.KeyCount);

        index.Remove("/a", s1);
        Assert.Equal(2, index.KeyCount);
        index.Remove("/a", s2);
        Assert.Equal(1, index.KeyCount);
        index.Remove("/b/*", s1);
        Assert.Equal(0, index.KeyCount);
        Assert.Empty(index.Get("/a"));
    }

    [Fact]
    public void ConcurrentAddRemove_EndsConsistent()
    {
        var index = new SubscriptionIndex<Sub>();
        var subs = Enumerable.Range(0, 64).Select(i => new Sub(i)).ToArray();
        string[] keys = ["/a", "/a/*", "/a/**", "/b", "/c/d"];

        // Every subscriber adds itself to every key; odd ones then remove themselves again, concurrently.
        Parallel.For(0, subs.Length * 20, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var s = subs[i % subs.Length];
            var key = keys[i / subs.Length % keys.Length];
            index.Add(key, s);
            _ = index.Get(key);
            if (s.N % 2 == 1)
            {
                index.Remove(key, s);
            }
        });
        // Each (subscriber, key) pair is visited 4 times; an odd one's last operation is always its own Remove.
        Assert.Equal(keys.Length, index.KeyCount);
        var evens = subs.Where(s => s.N % 2 == 0).ToHashSet();
        foreach (var key in keys)
        {
            var got = index.Get(key);
            Assert.Equal(got.Length, got.Distinct().Count());
            Assert.True(evens.SetEquals(got), key);
        }

        Parallel.ForEach(keys.SelectMany(k => subs.Select(s => (k, s))), pair => index.Remove(pair.k, pair.s));
        Assert.Equal(0, index.KeyCount);
    }
}
