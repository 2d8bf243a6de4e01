namespace Halley.Client;

/// <summary>
/// A Bayeux request failed: the server replied <c>"successful":false</c> (see <see cref="Error"/>),
/// or the connection carrying the request failed before a reply came.
/// </summary>
public class BayeuxException : Exception
{
    /// <summary>Creates an exception with no Bayeux error string.</summary>
    public BayeuxException()
    {
    }

    /// <summary>Creates an exception for a local failure (no Bayeux error string).</summary>
    /// <param name="message">What failed.</param>
    public BayeuxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception for a local failure caused by <paramref name="innerException"/>.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport error behind it.</param>
    public BayeuxException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a server reply that said <c>"successful":false</c>.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="error">The reply's <c>error</c> string, e.g. <c>403::forbidden</c>; null when it had none.</param>
    /// <param name="channel">The channel of the failed request.</param>
    public BayeuxException(string message, string? error, string? channel)
        : base(message)
    {
        Error = error;
        Channel = channel;
    }

    /// <summary>
    /// The server's Bayeux <c>error</c> string (<c>code:args:message</c>, e.g. <c>402::session_unknown</c>),
    /// or null when the failure happened on this side (connection lost, no reply).
    /// </summary>
    public string? Error { get; }

    /// <summary>The channel of the request that failed, when known.</summary>
    public string? Channel { get; }

    /// <summary>The numeric code at the start of <see cref="Error"/> (e.g. 402), or null when there is none.</summary>
    public int? ErrorCode => Internal.BayeuxError.ParseCode(Error);
}
