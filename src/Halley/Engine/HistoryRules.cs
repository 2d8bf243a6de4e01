using Halley.Channels;

namespace Halley.Engine;

/// <summary>Resolves which <see cref="HistoryRule"/>, if any, applies to a channel (see <see cref="HistoryOptions.Channels"/>).</summary>
internal sealed class HistoryRules
{
    private readonly KeyValuePair<string, HistoryRule>[] _patterns;
    private readonly Dictionary<string, HistoryRule> _names;

    public HistoryRules(IReadOnlyDictionary<string, HistoryRule> rules)
    {
        _names = rules.Where(r => !r.Key.EndsWith('*')).ToDictionary(StringComparer.Ordinal);
        // Most specific first, so the first pattern that matches wins: the longest prefix, and for one prefix the
        // one-level /a/* before the any-depth /a/**.
        _patterns = [.. rules.Where(r => r.Key.EndsWith('*'))
            .OrderByDescending(r => r.Key.TrimEnd('*').Length)
            .ThenBy(r => r.Key.EndsWith("/**", StringComparison.Ordinal))
            .ThenBy(r => r.Key, StringComparer.Ordinal)];
    }

    public bool IsEmpty => _names.Count == 0 && _patterns.Length == 0;

    /// <summary>The rule of a concrete <paramref name="channel"/>: its own name's, else the most specific matching pattern's; null when none.</summary>
    public HistoryRule? For(string channel)
    {
        if (_names.TryGetValue(channel, out var rule))
        {
            return rule;
        }
        foreach (var (pattern, patternRule) in _patterns)
        {
            if (ChannelName.Matches(pattern, channel))
            {
                return patternRule;
            }
        }
        return null;
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
        foreach (var (pattern, _) in _patterns)
        {
            // Read as a channel, a pattern K is covered by P when P matches it: /p/** covers /p/* and /p/x/**.
            // A one-level /p/* does not cover /p/**, which also reaches deeper channels.
            var deeper = key.EndsWith("/**", StringComparison.Ordinal) && !pattern.EndsWith("/**", StringComparison.Ordinal);
            if (!deeper && ChannelName.Matches(pattern, key))
            {
                return true;
            }
        }
        return false;
    }
}
