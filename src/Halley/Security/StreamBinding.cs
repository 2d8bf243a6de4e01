namespace Halley.Security;

/// <summary>What <see cref="SessionBinding.BindStream"/> found.</summary>
internal enum StreamBinding
{
    Bound,

    /// <summary>No live session has that client id.</summary>
    UnknownSession,

    /// <summary>The session exists, but the request does not carry the browser cookie it was created with.</summary>
    NotBound,
}
