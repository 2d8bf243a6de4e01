using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Halley.Redis;

/// <summary>
/// Readiness of a node on Redis (tag <c>ready</c>, served by <c>halley serve</c> at <c>/readyz</c>): ready while a
/// connection to Redis is up and the node's subscription still delivers the markers its sweep publishes to it every
/// second. A balancer that asks it takes a node out while Redis is unreachable, or while the node's subscription sits
/// on a connection that no longer receives (a demoted server after a failover), rather than leaving clients on a node
/// that would hand them nothing.
/// </summary>
public sealed class RedisEngineHealthCheck(RedisMessageEngine engine) : IHealthCheck
{
    /// <summary>The tag of the checks a readiness endpoint runs.</summary>
    public const string ReadyTag = "ready";

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(engine.Readiness() is { } problem
            ? new HealthCheckResult(context.Registration.FailureStatus, problem)
            : HealthCheckResult.Healthy("Redis is connected and this node's subscription delivers."));
}
