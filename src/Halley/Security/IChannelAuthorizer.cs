using System.Security.Claims;

namespace Halley.Security;

/// <summary>What a client wants to do with a channel.</summary>
public enum ChannelOperation
{
    /// <summary>Subscribe (Bayeux <c>/meta/subscribe</c>, <c>/sse</c>, <c>/stream</c>), which includes reading its history and resuming.</summary>
    Subscribe,

    /// <summary>Publish from a client (Bayeux); the backend API and <see cref="IHalleyPublisher"/> are not asked.</summary>
    Publish,
}

/// <summary>A client's request to subscribe to or publish on a channel, as <see cref="IChannelAuthorizer"/>s see it.</summary>
public sealed class ChannelAuthorizationRequest
{
    internal ChannelAuthorizationRequest(ChannelOperation operation, string channel, ClaimsPrincipal? user, string transport, string? clientId)
    {
        Operation = operation;
        Channel = channel;
        User = user;
        Transport = transport;
        ClientId = clientId;
    }

    /// <summary>Subscribe or publish.</summary>
    public ChannelOperation Operation { get; }

    /// <summary>The channel, or for a subscription possibly a pattern (<c>/chat/*</c>, <c>/chat/**</c>).</summary>
    public string Channel { get; }

    /// <summary>Who asks: the session's or stream's identity (token claims or the host's user); null when anonymous.</summary>
    public ClaimsPrincipal? User { get; }

    /// <summary>How: <c>bayeux</c>, <c>sse</c>, <c>stream</c> or <c>history</c>.</summary>
    public string Transport { get; }

    /// <summary>The Bayeux session's id; null on streams and history reads.</summary>
    public string? ClientId { get; }
}

/// <summary>What an <see cref="IChannelAuthorizer"/> decided.</summary>
/// <param name="IsAllowed">Whether the operation may go ahead.</param>
/// <param name="Reason">Why not: a short token such as <c>not_a_member</c>, sent to the client (Bayeux <c>403:channel:reason</c>, or the body of an HTTP 403).</param>
public readonly record struct ChannelDecision(bool IsAllowed, string? Reason)
{
    /// <summary>Allowed.</summary>
    public static ChannelDecision Allow { get; } = new(true, null);

    /// <summary>Refused for <paramref name="reason"/>.</summary>
    public static ChannelDecision Deny(string reason) => new(false, reason);
}

/// <summary>
/// Decides per request whether a client may subscribe to or publish on a channel, for hosts whose rules do not fit in
/// configuration (<c>Halley:Auth:Channels</c>). Registered with <see cref="IHalleyBuilder.AddChannelAuthorizer{TAuthorizer}"/>,
/// asked after the configured rules allowed the request, in registration order; the first refusal wins. The same
/// check guards Bayeux, <c>/sse</c>, <c>/stream</c>, history reads and resumes.
/// </summary>
public interface IChannelAuthorizer
{
    /// <summary>Allows or refuses <paramref name="request"/>. Called for every subscribe and client publish: keep it fast.</summary>
    ValueTask<ChannelDecision> AuthorizeAsync(ChannelAuthorizationRequest request, CancellationToken cancellationToken);
}
