namespace Halley.Security;

/// <summary>What an <see cref="IConnectionAuthorizer"/> decided about a <see cref="ConnectionRequest"/>.</summary>
/// <param name="IsAllowed">Whether the connection may open.</param>
/// <param name="StatusCode">The HTTP status a refusal is answered with (403 unless the authorizer says otherwise, e.g. 401).</param>
/// <param name="Reason">Why it was refused, sent to the client as the response's plain-text body.</param>
public readonly record struct ConnectionDecision(bool IsAllowed, int StatusCode, string? Reason)
{
    /// <summary>The connection may open.</summary>
    public static ConnectionDecision Allow { get; } = new(true, 200, null);

    /// <summary>Refuses the connection with <paramref name="statusCode"/> (a 4xx) and <paramref name="reason"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not a 4xx status.</exception>
    public static ConnectionDecision Deny(string reason, int statusCode = 403)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 499);
        return new(false, statusCode, reason);
    }
}
