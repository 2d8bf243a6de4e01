namespace Halley.Client.Internal;

/// <summary>
/// A subscription's channel: exact (<c>/a/b</c>), one-segment wildcard (<c>/a/*</c> matches <c>/a/b</c>
/// but not <c>/a/b/c</c>) or deep wildcard (<c>/a/**</c> matches <c>/a/b</c> and <c>/a/b/c</c>).
/// Bayeux allows a wildcard only as the whole last segment.
/// </summary>
internal sealed class ChannelPattern
{
    private readonly string _prefix; // for wildcards: the channel up to and including the last '/'
    private readonly WildcardKind _kind;

    private ChannelPattern(string pattern, string prefix, WildcardKind kind)
    {
        Pattern = pattern;
        _prefix = prefix;
        _kind = kind;
    }

    private enum WildcardKind
    {
        None,
        OneSegment,
        AnyDepth,
    }

    public string Pattern { get; }

    public bool IsWildcard => _kind != WildcardKind.None;

    /// <summary>Parses a subscription channel; throws <see cref="ArgumentException"/> for a malformed one.</summary>
    public static ChannelPattern Parse(string channel, string? paramName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel, paramName ?? nameof(channel));
        if (!IsWellFormed(channel, allowWildcard: true))
        {
            throw new ArgumentException($"'{channel}' is not a valid Bayeux channel: it must start with '/', have no empty segment, and use '*' or '**' only as the whole last segment.", paramName ?? nameof(channel));
        }

        if (channel.EndsWith("/**", StringComparison.Ordinal))
        {
            return new ChannelPattern(channel, channel[..^2], WildcardKind.AnyDepth);
        }

        if (channel.EndsWith("/*", StringComparison.Ordinal))
        {
            return new ChannelPattern(channel, channel[..^1], WildcardKind.OneSegment);
        }

        return new ChannelPattern(channel, channel, WildcardKind.None);
    }

    /// <summary>True when <paramref name="channel"/> is a well-formed channel name.</summary>
    public static bool IsWellFormed(string channel, bool allowWildcard)
    {
        if (channel.Length < 2 || channel[0] != '/' || channel[^1] == '/')
        {
            return false;
        }

        var segments = channel[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0)
            {
                return false;
            }

            if (segment.Contains('*', StringComparison.Ordinal))
            {
                var isLast = i == segments.Length - 1;
                if (!allowWildcard || !isLast || (segment != "*" && segment != "**"))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>True when an event published on the concrete <paramref name="channel"/> belongs to this pattern.</summary>
    public bool Matches(string channel)
    {
        switch (_kind)
        {
            case WildcardKind.None:
                return string.Equals(channel, Pattern, StringComparison.Ordinal);
            case WildcardKind.OneSegment:
                return channel.Length > _prefix.Length
                    && channel.StartsWith(_prefix, StringComparison.Ordinal)
                    && channel.IndexOf('/', _prefix.Length) < 0;
            default:
                return channel.Length > _prefix.Length
                    && channel.StartsWith(_prefix, StringComparison.Ordinal)
                    && channel[_prefix.Length] != '/';
        }
    }

    public override string ToString() => Pattern;
}
