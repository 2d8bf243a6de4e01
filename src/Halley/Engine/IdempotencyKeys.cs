namespace Halley.Engine;

/// <summary>
/// The idempotency keys an in-memory engine published within its window (<see cref="ApiOptions.IdempotencyWindow"/>),
/// with the position each publish got: a publish retried with the same key is answered with the first one's position
/// and not published again. Keys are let go of in the order they came, once their window has passed.
/// </summary>
internal sealed class IdempotencyKeys(TimeSpan window, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Claim> _claims = new(StringComparer.Ordinal);
    private readonly Queue<Claim> _byAge = new();

    /// <summary>Keys remembered now.</summary>
    public int Count
    {
        get { lock (_gate) { return _claims.Count; } }
    }

    /// <summary>
    /// Claims <paramref name="key"/> for a publish: true when no publish within the window had it (the caller publishes,
    /// then calls <see cref="Complete"/> or, if the publish failed, <see cref="Release"/>); false when one had, with that
    /// publish's position in <paramref name="earlier"/> (null if it had none or is still in progress).
    /// </summary>
    public bool TryClaim(string key, out StreamPosition? earlier)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            ExpireLocked(now);
            if (_claims.TryGetValue(key, out var claim))
            {
                earlier = claim.Position;
                return false;
            }
            claim = new Claim(key, now + (long)(window.TotalSeconds * time.TimestampFrequency));
            _claims.Add(key, claim);
            _byAge.Enqueue(claim);
            earlier = null;
            return true;
        }
    }

    /// <summary>Records the position the publish that claimed <paramref name="key"/> got.</summary>
    public void Complete(string key, StreamPosition? position)
    {
        lock (_gate)
        {
            if (_claims.TryGetValue(key, out var claim))
            {
                claim.Position = position;
            }
        }
    }

    /// <summary>Forgets <paramref name="key"/>: its publish failed, so a retry must go through.</summary>
    public void Release(string key)
    {
        lock (_gate)
        {
            _claims.Remove(key);
        }
    }

    /// <summary>Lets go of the keys whose window has passed (the node's sweep).</summary>
    public void Expire()
    {
        lock (_gate)
        {
            ExpireLocked(time.GetTimestamp());
        }
    }

    private void ExpireLocked(long now)
    {
        while (_byAge.TryPeek(out var oldest) && oldest.ExpiresAt <= now)
        {
            _byAge.Dequeue();
            // A key released and claimed again has a newer claim: only the one in the queue's head goes.
            if (_claims.TryGetValue(oldest.Key, out var current) && ReferenceEquals(current, oldest))
            {
                _claims.Remove(oldest.Key);
            }
        }
    }

    private sealed class Claim(string key, long expiresAt)
    {
        public string Key { get; } = key;

        public long ExpiresAt { get; } = expiresAt;

        public StreamPosition? Position { get; set; }
    }
}
