namespace Halley;

/// <summary>
/// Channel history and recovery (docs/recovery.md). Off unless a rule names the channel: in appsettings.json
/// <c>"History": { "Channels": { "/chat/**": { "Size": 1000, "Ttl": "00:10:00" } } }</c>, on the command line
/// <c>--Halley:History:Channels:/chat/**:Size=1000</c>.
/// </summary>
public sealed class HistoryOptions
{
    /// <summary>
    /// Retention rules by channel name or pattern. A channel takes the rule of its own name if there is one,
    /// otherwise that of the most specific matching pattern (the longest prefix; <c>/a/*</c> before <c>/a/**</c>).
    /// Channels no rule matches keep no history.
    /// </summary>
    public Dictionary<string, HistoryRule> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Most messages one recovery replays (a subscribe with a position, a resumed stream). A client further
    /// behind is told <c>recovered: false</c> and reloads its state instead. Default 1,000; at most the room left in
    /// the session's queue (<see cref="HalleyOptions.MaxQueue"/> minus what it already holds), since replayed
    /// messages wait in the same bounded queue.
    /// </summary>
    public int MaxRecoveredMessages { get; set; } = 1000;
}
