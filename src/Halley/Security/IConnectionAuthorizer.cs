namespace Halley.Security;

/// <summary>
/// Decides whether a client may open a Bayeux connection or a stream. Halley asks every registered authorizer
/// (<see cref="IHalleyBuilder.AddConnectionAuthorizer"/>) before it accepts a WebSocket (on both accept paths),
/// answers a long-poll, callback-poll or Faye <c>eventsource</c> request, or opens <c>/sse</c> or <c>/stream</c>;
/// the first refusal wins and is answered with its HTTP status and reason. The backend API has its own key
/// (<c>Halley:Api:Key</c>) and is not asked about here.
/// </summary>
/// <remarks>
/// Called once per HTTP request (every long-poll), and once per WebSocket before the upgrade: keep it fast, and
/// let it throw only for real faults (the request then fails as the host's error handling decides).
/// </remarks>
public interface IConnectionAuthorizer
{
    /// <summary>Allows or refuses <paramref name="request"/>.</summary>
    ValueTask<ConnectionDecision> AuthorizeAsync(ConnectionRequest request, CancellationToken cancellationToken);
}
