using System.Text.Json;

namespace Halley.Sessions;

/// <summary>A client's request on a <c>/service/**</c> channel.</summary>
public sealed class BayeuxServiceCall
{
    internal BayeuxServiceCall(string channel, string clientId, JsonElement data)
    {
        Channel = channel;
        ClientId = clientId;
        Data = data;
    }

    /// <summary>The service channel the client published to.</summary>
    public string Channel { get; }

    /// <summary>The calling session's client id.</summary>
    public string ClientId { get; }

    /// <summary>The request's <c>data</c>.</summary>
    public JsonElement Data { get; }
}

/// <summary>
/// Answers a service channel request. The returned value is serialized with System.Text.Json into the reply's
/// <c>data</c>; throwing fails the call with a <c>500</c> Bayeux error (the exception is logged, not sent).
/// </summary>
public delegate ValueTask<object?> BayeuxServiceHandler(BayeuxServiceCall call, CancellationToken cancellationToken);

/// <summary>The service channel handlers, by exact channel name.</summary>
public sealed class ServiceChannelOptions
{
    /// <summary>Handlers keyed by channel, e.g. <c>/service/echo</c>.</summary>
    public Dictionary<string, BayeuxServiceHandler> Handlers { get; } = new(StringComparer.Ordinal);
}
