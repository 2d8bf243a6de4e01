namespace Halley;

/// <summary>The backend HTTP API (<c>/api/…</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>The bearer key callers must send. When unset (default), only loopback callers are served.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// How long the engine remembers a publish's <c>Idempotency-Key</c>: a retry with the same key within it is answered
    /// with the first publish's position and delivered to no one again. Default 5 minutes.
    /// </summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(5);
}
