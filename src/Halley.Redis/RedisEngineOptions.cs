namespace Halley.Redis;

/// <summary>
/// The Redis engine's settings, bound from the configuration section <c>Halley:Redis</c> (docs/clustering.md).
/// </summary>
public sealed class RedisEngineOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Halley:Redis";

    /// <summary>
    /// A StackExchange.Redis connection string, e.g. <c>localhost:6379</c> or <c>redis1:6379,password=…,ssl=true</c>.
    /// Setting it in <c>Halley.Server</c> switches the node from the in-memory engine to Redis.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Put before every key and pub/sub channel this engine uses, so several Halley clusters (or tests) can share one
    /// Redis. Default <c>halley:</c>. On Redis Cluster use a hash tag, e.g. <c>{halley}:</c>: every script touches the
    /// one sequence of the engine and the keys of the channel it writes, so they must live in one slot.
    /// </summary>
    public string Prefix { get; set; } = "halley:";

    /// <summary>
    /// How long the node's subscription may deliver nothing before the node reports itself not ready (<c>/readyz</c>).
    /// The sweep publishes a probe marker to it every second, so silence means the subscription is dead. Default 5 s.
    /// </summary>
    public TimeSpan SubscriptionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a member stays in a channel's presence without its node refreshing it (every third of this): a
    /// crashed node's members disappear within it. Default 30 s.
    /// </summary>
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(30);
}
