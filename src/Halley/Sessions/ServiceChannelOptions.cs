namespace Halley.Sessions;

/// <summary>The service channel handlers, by exact channel name.</summary>
public sealed class ServiceChannelOptions
{
    /// <summary>Handlers keyed by channel, e.g. <c>/service/echo</c>.</summary>
    public Dictionary<string, BayeuxServiceHandler> Handlers { get; } = new(StringComparer.Ordinal);
}
