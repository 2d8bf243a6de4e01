namespace Halley;

/// <summary>How WebSocket connections are accepted.</summary>
public sealed class WebSocketSettings
{
    /// <summary>
    /// Accept WebSocket upgrades of the Bayeux endpoint at Kestrel's connection level, before the HTTP layer,
    /// on listeners set up with <see cref="HalleyKestrelExtensions.UseHalleyWebSockets"/> (<c>halley serve</c>
    /// sets up all of its plaintext listeners so). Saves 46% of the server memory of each idle WebSocket
    /// (19.0 → 10.3 KB, bench/results/2026-12-02-per-connection.md); such upgrades bypass HTTP middleware.
    /// Default true.
    /// </summary>
    public bool AcceptAtConnectionLevel { get; set; } = true;
}
