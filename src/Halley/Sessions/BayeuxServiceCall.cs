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
