namespace Halley.Engine;

/// <summary>
/// Thrown by an <see cref="IMessageEngine"/> whose store cannot be reached right now (a cluster engine whose Redis is
/// down or does not answer in time). The node answers it as "try again later", never as a server fault: the backend
/// API with HTTP 503 and <c>Retry-After</c>, Bayeux with <c>503::engine_unavailable</c> and advice to retry after a
/// jittered interval, a stream with 503. Sessions stay as they are, and everything resumes when the store is back.
/// </summary>
/// <remarks>
/// When the store did not answer in time, the operation may still have been applied (a publish, for instance), which
/// is why a backend should retry a publish with the same idempotency key.
/// </remarks>
public sealed class EngineUnavailableException : Exception
{
    /// <summary>Creates the exception with why the store is unavailable and what failed.</summary>
    public EngineUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>How long a client should wait before it tries again. Default 2 s.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);
}
