namespace Halley.LoadTest.Protocols;

/// <summary>
/// Optional: a connection that can tell it was closed after it opened (by the server, a network error or a
/// protocol error such as Bayeux's <c>402::session_unknown</c>). Workers count such connections as dropped;
/// connections that do not implement it are never counted as dropped.
/// </summary>
public interface IPushConnectionState
{
    /// <summary>True once the connection ended without being disposed by the load generator.</summary>
    bool IsClosed { get; }

    /// <summary>Why it ended, when <see cref="IsClosed"/>; <c>null</c> otherwise.</summary>
    string? CloseReason { get; }
}
