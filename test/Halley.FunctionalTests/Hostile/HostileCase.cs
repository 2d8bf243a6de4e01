namespace Halley.FunctionalTests.Hostile;

/// <summary>The class of answer a hostile case may get. Anything else (a 5xx, a success, a hang) fails the case.</summary>
[Flags]
public enum Answer
{
    /// <summary>An HTTP 4xx status.</summary>
    Http4xx = 1,

    /// <summary>Bayeux replies that all failed with a 4xx error code (over HTTP 200 or a WebSocket frame).</summary>
    BayeuxError = 2,

    /// <summary>The server closed the connection: a WebSocket close frame with an error code (1002, 1003, 1007, 1009), or the TCP connection.</summary>
    Closed = 4,
}

/// <summary>What a probe saw.</summary>
/// <param name="Kind">Its class; null when it is none of the refusals (a success, a 5xx).</param>
/// <param name="Detail">What exactly came back, for the failure message.</param>
public sealed record Outcome(Answer? Kind, string Detail)
{
    public static Outcome Of(Answer kind, string detail) => new(kind, detail);

    public static Outcome Unexpected(string detail) => new(null, detail);
}

/// <summary>One hostile input: its name (unique, its family first), what to do, and which answers are right.</summary>
/// <param name="Name">Unique name, <c>family/what</c>.</param>
/// <param name="Expected">The answers that pass.</param>
/// <param name="Run">Sends the input to the server and reports what came back.</param>
public sealed record HostileCase(string Name, Answer Expected, Func<HostileTarget, Task<Outcome>> Run);
