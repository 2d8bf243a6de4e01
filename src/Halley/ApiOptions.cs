namespace Halley;

/// <summary>The backend HTTP API (<c>/api/…</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>
    /// The bearer key callers must send; it may use every endpoint. When no key is set here or in <see cref="Keys"/>
    /// (default), only loopback callers are served.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// How long the engine remembers a publish's <c>Idempotency-Key</c>: a retry with the same key within it is answered
    /// with the first publish's position and delivered to no one again. Default 5 minutes.
    /// </summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>More keys, each limited to some endpoints (its <see cref="ApiKey.Scopes"/>).</summary>
    public List<ApiKey> Keys { get; set; } = [];
}

/// <summary>A backend API key and what it may do.</summary>
public sealed class ApiKey
{
    /// <summary>The bearer key.</summary>
    public string Key { get; set; } = "";

    /// <summary>What the key may use: any of <c>publish</c>, <c>history</c>, <c>disconnect</c>, <c>presence</c>, or <c>*</c> for all.</summary>
    public List<string> Scopes { get; set; } = [];
}
