namespace Halley;

/// <summary>The backend HTTP API (<c>/api/…</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>The bearer key callers must send. When unset (default), only loopback callers are served.</summary>
    public string? Key { get; set; }
}
