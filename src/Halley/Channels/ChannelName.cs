namespace Halley.Channels;

/// <summary>
/// Channel name rules. A name is <c>/</c>-separated segments of letters, digits and
/// <c>- _ ! ~ ( ) $ @ .</c> (Bayeux 1.0's grammar plus <c>.</c>); a pattern ends in <c>/*</c> (exactly one
/// more segment) or <c>/**</c> (one or more segments at any depth).
/// </summary>
public static class ChannelName
{
    /// <summary>Longest channel name accepted, in characters.</summary>
    public const int MaxLength = 256;

    /// <summary>Most segments a channel name may have.</summary>
    public const int MaxSegments = 16;

    /// <summary>Validates <paramref name="name"/>; wildcards are accepted only as the last segment.</summary>
    public static bool IsValid(string? name, out bool isWildcard)
    {
        isWildcard = false;
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] != '/')
        {
            return false;
        }
        var segments = 0;
        var start = 1;
        while (true)
        {
            var end = name.IndexOf('/', start);
            var last = end < 0;
            var segment = name.AsSpan(start, (last ? name.Length : end) - start);
            if (segment.IsEmpty || ++segments > MaxSegments)
            {
                return false;
            }
            if (segment is "*" or "**")
            {
                if (!last || segments == 0)
                {
                    return false;
                }
                isWildcard = true;
            }
            else if (!IsToken(segment))
            {
                return false;
            }
            if (last)
            {
                return true;
            }
            start = end + 1;
        }
    }

    /// <summary>Classifies a valid name by its first segment.</summary>
    public static ChannelKind KindOf(string name) =>
        name.StartsWith("/meta/", StringComparison.Ordinal) || name == "/meta" ? ChannelKind.Meta
        : name.StartsWith("/service/", StringComparison.Ordinal) || name == "/service" ? ChannelKind.Service
        : ChannelKind.Broadcast;

    /// <summary>
    /// The subscription keys that match a concrete <paramref name="channel"/>: itself, its parent with
    /// <c>/*</c>, and every ancestor with <c>/**</c>. Matching is then one dictionary lookup per key, so its
    /// cost depends on the channel's depth, never on how many patterns exist.
    /// </summary>
    public static List<string> MatchingKeys(string channel)
    {
        var keys = new List<string>(4) { channel };
        var lastSlash = channel.LastIndexOf('/');
        keys.Add(string.Concat(channel.AsSpan(0, lastSlash), "/*"));
        for (var slash = lastSlash; slash >= 0; slash = slash == 0 ? -1 : channel.LastIndexOf('/', slash - 1))
        {
            keys.Add(string.Concat(channel.AsSpan(0, slash), "/**"));
        }
        return keys;
    }

    /// <summary>Whether a concrete <paramref name="channel"/> is matched by <paramref name="pattern"/> (a name or wildcard).</summary>
    public static bool Matches(string pattern, string channel)
    {
        if (pattern.EndsWith("/**", StringComparison.Ordinal))
        {
            var prefix = pattern.AsSpan(0, pattern.Length - 2);
            return channel.Length > prefix.Length && channel.AsSpan().StartsWith(prefix, StringComparison.Ordinal);
        }
        if (pattern.EndsWith("/*", StringComparison.Ordinal))
        {
            var prefix = pattern.AsSpan(0, pattern.Length - 1);
            return channel.Length > prefix.Length
                && channel.AsSpan().StartsWith(prefix, StringComparison.Ordinal)
                && channel.IndexOf('/', prefix.Length) < 0;
        }
        return string.Equals(pattern, channel, StringComparison.Ordinal);
    }

    /// <summary>Whether a concrete <paramref name="channel"/> is matched by any of <paramref name="keys"/> (names or wildcards).</summary>
    public static bool MatchesAny(IEnumerable<string> keys, string channel)
    {
        foreach (var key in keys)
        {
            if (Matches(key, channel))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether some concrete channel is matched by both <paramref name="a"/> and <paramref name="b"/> (valid names or
    /// patterns): <c>/a/*</c> and <c>/a/**</c> overlap, as do <c>/a/**</c> and <c>/a/b/c</c>; <c>/a/*</c> and
    /// <c>/a/b/c</c> do not.
    /// </summary>
    public static bool Overlaps(string a, string b)
    {
        var (literalsA, minA, maxA) = Shape(a);
        var (literalsB, minB, maxB) = Shape(b);
        // Past its literal segments a pattern accepts any segment, so the literals they share must agree, and some
        // depth must suit both.
        var shared = Math.Min(literalsA.Length, literalsB.Length);
        for (var i = 0; i < shared; i++)
        {
            if (!string.Equals(literalsA[i], literalsB[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        return Math.Max(minA, minB) <= Math.Min(maxA, maxB);
    }

    /// <summary>A name or pattern's literal segments, and the fewest and most segments of the channels it matches.</summary>
    private static (string[] Literals, int MinDepth, int MaxDepth) Shape(string key)
    {
        var segments = key.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments[^1] switch
        {
            "**" => (segments[..^1], segments.Length, int.MaxValue),
            "*" => (segments[..^1], segments.Length, segments.Length),
            _ => (segments, segments.Length, segments.Length),
        };
    }

    private static bool IsToken(ReadOnlySpan<char> segment)
    {
        // "." and ".." (and any segment of dots only) are path tricks: a channel mapped to a URL, a file or a Redis key
        // pattern must not walk up or stay in place.
        if (!segment.ContainsAnyExcept('.'))
        {
            return false;
        }
        foreach (var c in segment)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                or '-' or '_' or '!' or '~' or '(' or ')' or '$' or '@' or '.';
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
