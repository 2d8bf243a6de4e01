using Halley.Channels;

namespace Halley.Tests.Channels;

public class SubscriptionIndexTests
{
    private const int SmallMax = SubscriptionIndex<Sub>.SmallMax;
    private const int SmallAgain = SubscriptionIndex<Sub>.SmallAgain;

    private sealed class Sub(int n)
    {
        public int N { get; } = n;
        public override string ToString() => $"sub{N}";
    }

    private static Sub[] Subs(int count, int from = 0) => [.. Enumerable.Range(from, count).Select(i => new Sub(i))];

    private static List<Sub> Items(SubscriberSnapshot<Sub> snapshot)
    {
        var list = new List<Sub>();
        foreach (var s in snapshot)
        {
            list.Add(s);
        }
        return list;
    }

    private static SubscriptionIndex<Sub> Filled(string key, IEnumerable<Sub> subs)
    {
        var index = new SubscriptionIndex<Sub>();
        foreach (var s in subs)
        {
            Assert.True(index.Add(key, s));
        }
        return index;
    }

    [Fact]
    public void Add_Twice_IsIdempotent()
    {
        var index = new SubscriptionIndex<Sub>();
        var s = new Sub(1);

        Assert.True(index.Add("/a", s));
        Assert.False(index.Add("/a", s));

        Assert.Same(s, Assert.Single(Items(index.Get("/a"))));
        Assert.Equal(1, index.Get("/a").Count);
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
        Assert.Empty(Items(index.Get("/a")));
        Assert.Equal(0, index.Get("/a").Count);
    }

    [Fact]
    public void Remove_UnknownSubscriber_LeavesOthers()
    {
        var index = new SubscriptionIndex<Sub>();
        var s1 = new Sub(1);
        index.Add("/a", s1);

        Assert.False(index.Remove("/a", new Sub(2)));
        Assert.Same(s1, Assert.Single(Items(index.Get("/a"))));
    }

    [Fact]
    public void Get_Missing_IsEmpty_AndDefaultIsEmpty()
    {
        var index = new SubscriptionIndex<Sub>();

        Assert.Equal(0, index.Get("/nobody").Count);
        Assert.Empty(Items(index.Get("/nobody")));
        Assert.Equal(0, index.Get("/nobody").Slots.Length);
        Assert.Empty(Items(default));
    }

    // Sizes on both sides of every threshold: exact arrays up to SmallMax, slot arrays from SmallMax + 1, scanned up
    // to 128 slots, with a slot table from 256 slots.
    [Theory]
    [InlineData(1)]
    [InlineData(SmallMax)]
    [InlineData(SmallMax + 1)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(1_000)]
    [InlineData(20_000)]
    public void AddAndRemove_AtEverySize_KeepSemantics(int size)
    {
        var subs = Subs(size);
        var index = Filled("/a", subs);

        foreach (var s in subs)
        {
            Assert.False(index.Add("/a", s));
        }
        Assert.False(index.Remove("/a", new Sub(-1)));
        Assert.Equal(size, index.Get("/a").Count);
        Assert.Equal(subs, Items(index.Get("/a")));

        // Remove in a scrambled order; every removal answers true once, false after.
        var order = subs.ToArray();
        new Random(size).Shuffle(order);
        var left = new HashSet<Sub>(subs);
        for (var i = 0; i < order.Length; i++)
        {
            Assert.True(index.Remove("/a", order[i]));
            Assert.False(index.Remove("/a", order[i]));
            left.Remove(order[i]);
            if (i % Math.Max(1, size / 20) == 0 || left.Count < 40)
            {
                var got = Items(index.Get("/a"));
                Assert.Equal(left.Count, index.Get("/a").Count);
                // Subscription order survives removals and compactions.
                Assert.Equal(subs.Where(left.Contains), got);
            }
        }
        Assert.Equal(0, index.KeyCount);
        Assert.Equal(0, index.Get("/a").Count);
    }

    [Fact]
    public void RandomChurn_AcrossThresholds_MatchesAModel()
    {
        // The key's size wanders between 0 and about 700, crossing the exact/slot conversions (33 up, 16 down) and the
        // scan/table boundary many times; every answer and, often, the whole content is checked against a list.
        var random = new Random(10);
        var pool = Subs(800);
        var index = new SubscriptionIndex<Sub>();
        var model = new List<Sub>();
        var target = 0;
        for (var op = 0; op < 60_000; op++)
        {
            if (op % 5_000 == 0)
            {
                target = random.Next(0, 700);
            }
            var s = pool[random.Next(pool.Length)];
            var add = model.Count < target ? random.Next(4) != 0 : random.Next(4) == 0;
            if (add)
            {
                var expected = !model.Contains(s);
                Assert.Equal(expected, index.Add("/k", s));
                if (expected)
                {
                    model.Add(s);
                }
            }
            else
            {
                Assert.Equal(model.Remove(s), index.Remove("/k", s));
            }
            var snapshot = index.Get("/k");
            Assert.Equal(model.Count, snapshot.Count);
            // An iteration reads at most twice as many slots as there are subscribers (tombstones past half compact).
            Assert.True(snapshot.Slots.Length <= 2 * model.Count, $"{snapshot.Slots.Length} slots for {model.Count} subscribers");
            if (op % 97 == 0)
            {
                Assert.Equal(model, Items(snapshot));
            }
        }
        Assert.Equal(model, Items(index.Get("/k")));
    }

    [Fact]
    public void SmallKey_Snapshot_IsUnchangedByLaterWrites()
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

        Assert.Equal([s1, s2], Items(snapshot));
        Assert.Equal(2, snapshot.Count);
        Assert.Equal([s2, s3], Items(index.Get("/a")));
    }

    [Fact]
    public void LargeKey_Removal_LeavesATombstoneInPlace_AndAnOldSnapshotSeesNoLaterAdd()
    {
        var subs = Subs(100);
        var index = Filled("/a", subs);
        var before = index.Get("/a");
        Assert.Same(subs[10], before.Slots.Span[10]);

        Assert.True(index.Remove("/a", subs[10]));
        var late = new Sub(100);
        Assert.True(index.Add("/a", late));

        // The same array: the removed subscriber's slot is null in the old snapshot too, nothing moved, and the
        // appended subscriber lies beyond the old snapshot's range.
        Assert.Null(before.Slots.Span[10]);
        Assert.Equal(100, before.Slots.Length);
        for (var i = 0; i < 100; i++)
        {
            Assert.Same(i == 10 ? null : subs[i], before.Slots.Span[i]);
        }
        Assert.Equal(subs.Where(s => s.N != 10), Items(before));
        var after = index.Get("/a");
        Assert.Equal(101, after.Slots.Length);
        Assert.Equal(100, after.Count);
        Assert.Same(late, after.Slots.Span[100]);
    }

    [Fact]
    public void LargeKey_RemovedSlot_IsNotReusedInPlace_ButReclaimedByCompaction()
    {
        // Churn on a full key: remove the oldest, add a new one, many times over. Freed slots are not reused in
        // place (a reader could then meet a re-added subscriber twice); compaction reclaims them, so the used
        // range stays within twice the live count, and a subscriber's slot never changes within one array.
        const int Size = 1_000;
        var subs = Subs(Size);
        var index = Filled("/a", subs);
        var live = new Queue<Sub>(subs);
        var next = Size;
        var arraysSeen = 0;
        ReadOnlyMemory<Sub?> lastArray = index.Get("/a").Slots;
        for (var op = 0; op < 20 * Size; op++)
        {
            var oldest = live.Dequeue();
            var oldSnapshot = index.Get("/a");
            var oldSlot = oldSnapshot.Slots.Span.IndexOf(oldest);
            Assert.True(index.Remove("/a", oldest));
            var fresh = new Sub(next++);
            Assert.True(index.Add("/a", fresh));
            live.Enqueue(fresh);

            var now = index.Get("/a");
            Assert.Equal(Size, now.Count);
            Assert.True(now.Slots.Length <= 2 * Size);
            if (!SameArray(now.Slots, lastArray))
            {
                arraysSeen++;
                lastArray = now.Slots;
            }
            // Within one array the removed slot stays a tombstone (the old snapshot's range never sees the new one).
            Assert.Null(oldSnapshot.Slots.Span[oldSlot]);
            Assert.DoesNotContain(fresh, Items(oldSnapshot));
        }
        Assert.Equal(live, Items(index.Get("/a")));
        // 20,000 appends in arrays of at most 2,048 slots: compaction reclaimed the tombstones many times.
        Assert.InRange(arraysSeen, 10, 20 * Size / 2);
    }

    [Fact]
    public void Growth_CopiesIntoANewArray_AtTheSameSlots()
    {
        // Filling a key grows its slot array into new arrays; with no tombstones every subscriber keeps its slot
        // number, and a snapshot of the old array still reads it whole.
        var subs = Subs(5_000);
        var index = Filled("/a", subs.Take(SmallMax + 1));
        var last = index.Get("/a");
        var growths = 0;
        foreach (var s in subs.Skip(SmallMax + 1))
        {
            Assert.True(index.Add("/a", s));
            var now = index.Get("/a");
            if (!SameArray(last.Slots, now.Slots))
            {
                growths++;
                Assert.Equal(last.Slots.ToArray(), now.Slots[..last.Slots.Length].ToArray());
                Assert.Equal(subs.Take(last.Count), Items(last));
            }
            last = now;
        }
        Assert.Equal(subs, last.Slots.ToArray());
        Assert.Equal(5_000, last.Count);
        // 1.5 times per growth from 50 slots: about a dozen growths, not one per add.
        Assert.InRange(growths, 8, 16);
    }

    [Fact]
    public void Compaction_WhenTombstonesPassHalf_PublishesAPackedArray_AndLeavesOldSnapshotsValid()
    {
        var subs = Subs(1_000);
        var index = Filled("/a", subs);
        var before = index.Get("/a");

        // Remove every other one: 500 tombstones of 1,000 used slots is not past half yet.
        for (var i = 0; i < 1_000; i += 2)
        {
            Assert.True(index.Remove("/a", subs[i]));
        }
        var half = index.Get("/a");
        Assert.True(SameArray(before.Slots, half.Slots));
        Assert.Equal(1_000, half.Slots.Length);
        Assert.Equal(500, half.Count);

        // One more passes half: the live ones are packed, in order, into a new array.
        Assert.True(index.Remove("/a", subs[1]));
        var packed = index.Get("/a");
        Assert.False(SameArray(half.Slots, packed.Slots));
        Assert.Equal(499, packed.Slots.Length);
        Assert.Equal(subs.Where(s => s.N % 2 == 1 && s.N != 1), packed.Slots.ToArray());

        // The old array is left as it was when it was replaced: later removals no longer touch it.
        Assert.True(index.Remove("/a", subs[3]));
        Assert.Same(subs[3], before.Slots.Span[3]);
        Assert.Null(before.Slots.Span[1]);
        Assert.Equal(499, Items(before).Count);
    }

    [Fact]
    public void LargeKey_ShrinkingTo_SmallAgain_BecomesAnExactArray()
    {
        var subs = Subs(SmallMax + 1);
        var index = Filled("/a", subs);
        Assert.Equal(SmallMax + 1, index.Get("/a").Slots.Length);

        for (var i = 0; i < SmallMax + 1 - SmallAgain; i++)
        {
            Assert.True(index.Remove("/a", subs[i]));
        }

        // Exact: no tombstones in the range, and a snapshot is immutable again.
        var exact = index.Get("/a");
        Assert.Equal(SmallAgain, exact.Count);
        Assert.Equal(SmallAgain, exact.Slots.Length);
        Assert.Equal(subs.Skip(SmallMax + 1 - SmallAgain), exact.Slots.ToArray());
        index.Remove("/a", subs[^1]);
        Assert.Equal(SmallAgain, Items(exact).Count);
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

        Assert.Equal([subs[0], subs[1], subs[3], subs[4]], Items(index.Get("/a")));
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
        Assert.Empty(Items(index.Get("/a")));
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
            _ = Items(index.Get(key));
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
            var got = Items(index.Get(key));
            Assert.Equal(got.Count, got.Distinct().Count());
            Assert.True(evens.SetEquals(got), key);
            Assert.Equal(evens.Count, index.Get(key).Count);
        }

        Parallel.ForEach(keys.SelectMany(k => subs.Select(s => (k, s))), pair => index.Remove(pair.k, pair.s));
        Assert.Equal(0, index.KeyCount);
    }

    /// <summary>
    /// Readers iterate a key while writers churn other subscribers of it (adds, removes, a subscriber leaving and
    /// coming straight back), across growth, compaction and, for the small case, the exact/slot conversions. Every
    /// iteration, whole or split into slot ranges as a partitioned fan-out reads it, must yield each stable
    /// subscriber exactly once, and no subscriber twice. Each churned subscriber carries a version its writer bumps
    /// before and after changing it, so a reader also knows which of them nobody touched during its iteration: those
    /// must be yielded exactly once if held, never if not (a writer moving one inside the array would break that).
    /// </summary>
    [Theory]
    [InlineData(5, 60)]
    [InlineData(200, 3_000)]
    public async Task ReadersIterating_WhileWritersChurn_SeeEveryUnchangedSubscriberExactlyOnce(int stableCount, int churnCount)
    {
        const int ReaderIterations = 3_000;
        const int WriterOpsAtLeast = 20_000;
        var deadline = TimeSpan.FromSeconds(60);

        var stable = Subs(stableCount);
        var churn = Subs(churnCount, from: stableCount);
        // Per churned subscriber: odd while its writer changes it; held says whether it is in the key when even.
        var version = new int[churnCount];
        var held = new bool[churnCount];
        var index = new SubscriptionIndex<Sub>();
        // Interleaved, so tombstones and compactions happen between stable subscribers, not only after them.
        for (var i = 0; i < Math.Max(stableCount, churnCount / 2); i++)
        {
            if (i < stableCount)
            {
                index.Add("/k", stable[i]);
            }
            if (i < churnCount / 2)
            {
                index.Add("/k", churn[2 * i]);
                held[2 * i] = true;
            }
        }

        using var start = new ManualResetEventSlim();
        using var cancel = new CancellationTokenSource();
        var writerOps = new long[2];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        // Each writer owns every other churned subscriber, so its own Add/Remove answers are predictable.
        var writers = Enumerable.Range(0, 2).Select(w => Task.Factory.StartNew(() =>
        {
            var random = new Random(w);
            if (!start.Wait(deadline))
            {
                failures.Enqueue("writer never started");
                return;
            }
            while (!cancel.IsCancellationRequested)
            {
                // Phases of net growth and net shrinkage, so arrays grow and compact, and small keys convert.
                var growing = writerOps[w] / 2_000 % 2 == 0;
                var i = 2 * random.Next(churnCount / 2) + w;
                var s = churn[i];
                Volatile.Write(ref version[i], version[i] + 1);
                if (held[i] && random.Next(8) == 0)
                {
                    // Leaves and comes straight back: must never be yielded twice by one iteration.
                    if (!index.Remove("/k", s) || !index.Add("/k", s))
                    {
                        failures.Enqueue($"writer {w}: leave-and-return of {s} answered wrong");
                    }
                }
                else if (held[i] != (growing ? random.Next(8) != 0 : random.Next(8) == 0))
                {
                    if (!(held[i] ? index.Remove("/k", s) : index.Add("/k", s)))
                    {
                        failures.Enqueue($"writer {w}: {(held[i] ? "remove" : "add")} of {s} answered false");
                    }
                    Volatile.Write(ref held[i], !held[i]);
                }
                Volatile.Write(ref version[i], version[i] + 1);
                Interlocked.Increment(ref writerOps[w]);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Factory.StartNew(() =>
        {
            var seen = new Dictionary<Sub, int>(ReferenceEqualityComparer.Instance);
            var versionBefore = new int[churnCount];
            var heldBefore = new bool[churnCount];
            if (!start.Wait(deadline))
            {
                failures.Enqueue("reader never started");
                return;
            }
            for (var iteration = 0; iteration < ReaderIterations || Volatile.Read(ref writerOps[0]) + Volatile.Read(ref writerOps[1]) < WriterOpsAtLeast; iteration++)
            {
                if (cancel.IsCancellationRequested)
                {
                    return;
                }
                seen.Clear();
                for (var i = 0; i < churnCount; i++)
                {
                    versionBefore[i] = Volatile.Read(ref version[i]);
                    heldBefore[i] = Volatile.Read(ref held[i]);
                }
                var snapshot = index.Get("/k");
                if (snapshot.Count < stableCount)
                {
                    failures.Enqueue($"reader {r}: Count {snapshot.Count} below the {stableCount} stable subscribers");
                }
                if (r == 0 || iteration % 2 == 0)
                {
                    foreach (var s in snapshot)
                    {
                        seen[s] = seen.GetValueOrDefault(s) + 1;
                    }
                }
                else
                {
                    // As a partitioned fan-out reads it: three contiguous slot ranges, read one after the other.
                    var slots = snapshot.Slots;
                    var third = slots.Length / 3;
                    foreach (var range in new[] { slots[..third], slots[third..(2 * third)], slots[(2 * third)..] })
                    {
                        foreach (var s in range.Span)
                        {
                            if (s is not null)
                            {
                                seen[s] = seen.GetValueOrDefault(s) + 1;
                            }
                        }
                    }
                }
                var unchanged = 0;
                for (var i = 0; i < churnCount; i++)
                {
                    var before = versionBefore[i];
                    if (before % 2 == 0 && Volatile.Read(ref version[i]) == before)
                    {
                        unchanged++;
                        var expected = heldBefore[i] ? 1 : 0;
                        if (seen.GetValueOrDefault(churn[i]) != expected)
                        {
                            failures.Enqueue($"reader {r}, iteration {iteration}: {churn[i]}, {(heldBefore[i] ? "held" : "not held")} and untouched, seen {seen.GetValueOrDefault(churn[i])} times");
                        }
                    }
                }
                foreach (var s in stable)
                {
                    if (seen.GetValueOrDefault(s) != 1)
                    {
                        failures.Enqueue($"reader {r}, iteration {iteration}: stable {s} seen {seen.GetValueOrDefault(s)} times");
                    }
                }
                foreach (var (s, times) in seen)
                {
                    if (times != 1)
                    {
                        failures.Enqueue($"reader {r}, iteration {iteration}: {s} seen {times} times");
                    }
                }
                if (!failures.IsEmpty)
                {
                    return;
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        start.Set();
        var readersDone = await Completes(Task.WhenAll(readers), deadline);
        cancel.Cancel();
        var writersDone = await Completes(Task.WhenAll(writers), TimeSpan.FromSeconds(10));

        Assert.True(readersDone, $"readers did not finish within {deadline} (writer ops {writerOps[0]} + {writerOps[1]})");
        Assert.True(writersDone, "writers did not stop");
        Assert.Empty(failures.Take(10));
        Assert.True(writerOps[0] + writerOps[1] >= WriterOpsAtLeast);
        // After the churn the key holds exactly the stable subscribers and the churned ones held last.
        Assert.Equal([.. stable, .. churn.Where((_, i) => held[i])], Items(index.Get("/k")).OrderBy(s => s.N));
        Assert.Equal(stableCount + held.Count(h => h), index.Get("/k").Count);
    }

    private static async Task<bool> Completes(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static bool SameArray(ReadOnlyMemory<Sub?> a, ReadOnlyMemory<Sub?> b) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(a, out var x)
        && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(b, out var y)
        && ReferenceEquals(x.Array, y.Array);
}
