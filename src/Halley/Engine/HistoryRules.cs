using Halley.Channels;

namespace Halley.Engine;

/// <summary>A <see cref="HistoryRule"/> as configured: the name or pattern it is configured under, and its place among the rules.</summary>
/// <param name="Key">The channel name or pattern of <see cref="HistoryOptions.Channels"/>.</param>
/// <param name="Index">Its place among the configured rules, so per-rule state can live in an array.</param>
/// <param name="Rule">How much the channels it applies to keep.</param>
public sealed record ConfiguredRule(string Key, int Index, HistoryRule Rule);

/// <summary>
/// Resolves which <see cref="HistoryRule"/>, if any, applies to a channel (see <see cref="HistoryOptions.Channels"/>).
/// Public so that an engine in another assembly (Halley.Redis) applies the same rules, and judges a read's
/// completeness the same way, as the in-memory engine.
/// </summary>
public sealed class HistoryRules
{
    private readonly ConfiguredRule[] _all;
    private readonly ConfiguredRule[] _patterns;
    private readonly Dictionary<string, ConfiguredRule> _names;

    /// <summary>Takes the configured rules (<see cref="HistoryOptions.Channels"/>), keyed by channel name or pattern.</summary>
    public HistoryRules(IReadOnlyDictionary<string, HistoryRule> rules)
    {
        _all = [.. rules.Select((r, i) => new ConfiguredRule(r.Key, i, r.Value))];
        _names = _all.Where(r => !r.Key.EndsWith('*')).ToDictionary(r => r.Key, StringComparer.Ordinal);
        // Most specific first, so the first pattern that matches wins: the longest prefix, and for one prefix the
        // one-level /a/* before the any-depth /a/**.
        _patterns = [.. _all.Where(r => r.Key.EndsWith('*'))
            .OrderByDescending(r => r.Key.TrimEnd('*').Length)
            .ThenBy(r => r.Key.EndsWith("/**", StringComparison.Ordinal))
            .ThenBy(r => r.Key, StringComparer.Ordinal)];
    }

    /// <summary>Whether no rule is configured: no channel keeps a history.</summary>
    public bool IsEmpty => _all.Length == 0;

    /// <summary>Number of configured rules; their <see cref="ConfiguredRule.Index"/> is below it.</summary>
    public int Count => _all.Length;

    /// <summary>The rule of a concrete <paramref name="channel"/>: its own name's, else the most specific matching pattern's; null when none.</summary>
    public ConfiguredRule? For(string channel)
    {
        if (_names.TryGetValue(channel, out var rule))
        {
            return rule;
        }
        foreach (var pattern in _patterns)
        {
            if (ChannelName.Matches(pattern.Key, channel))
            {
                return pattern;
            }
        }
        return null;
    }

    /// <summary>
    /// The rules that may apply to a channel <paramref name="key"/> matches: for a name, exactly its own rule; for a
    /// pattern, every rule whose name or pattern overlaps it. The latter may include a rule that a more specific one
    /// shadows on every channel they share, which only ever makes a recovery bound stricter.
    /// </summary>
    public IEnumerable<ConfiguredRule> Reaching(string key)
    {
        if (!key.EndsWith('*'))
        {
            return For(key) is { } own ? [own] : [];
        }
        return _all.Where(r => ChannelName.Overlaps(r.Key, key));
    }

    /// <summary>
    /// Whether every channel that <paramref name="key"/> (a name or a pattern) can match keeps a history, so a
    /// recovery over it can be complete.
    /// </summary>
    public bool Covers(string key)
    {
        if (!key.EndsWith('*'))
        {
            return For(key) is not null;
        }
        foreach (var pattern in _patterns)
        {
            // Read as a channel, a pattern K is covered by P when P matches it: /p/** covers /p/* and /p/x/**.
            // A one-level /p/* does not cover /p/**, which also reaches deeper channels.
            var deeper = key.EndsWith("/**", StringComparison.Ordinal) && !pattern.Key.EndsWith("/**", StringComparison.Ordinal);
            if (!deeper && ChannelName.Matches(pattern.Key, key))
            {
                return true;
            }
        }
        return false;
    }
}
