namespace Halley.Client.Internal;

/// <summary>
/// The connection failed under a request: the socket closed, the HTTP request failed or came back with no
/// Bayeux reply. It is a <see cref="BayeuxException"/> with no <see cref="BayeuxException.Error"/>, so
/// callers catch one type; the connect loop tells it apart to resume or re-handshake.
/// </summary>
internal sealed class TransportException : BayeuxException
{
    public TransportException(string message, Exception? innerException = null, bool superseded = false, bool closedNormally = false, bool notSent = false)
        : base(message, innerException)
    {
        Superseded = superseded;
        ClosedNormally = closedNormally;
        NotSent = notSent;
    }

    /// <summary>
    /// The request never left the client: the connection was already closed when it was to be sent. The server cannot
    /// have acted on it, so sending it again on the next connection repeats nothing.
    /// </summary>
    public bool NotSent { get; }

    /// <summary>
    /// The server closed the connection on purpose, with a normal close (WebSocket status 1000), as Halley does at
    /// the end of a connection's lifetime: the connection did not fail, and the client may come back at once.
    /// </summary>
    public bool ClosedNormally { get; }

    /// <summary>
    /// The server ended a held connect because a newer connect of the same session arrived (it answers
    /// HTTP 500 with an empty body). The session is fine; only that request is void.
    /// </summary>
    public bool Superseded { get; }
}
