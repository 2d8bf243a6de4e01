using System.Security.Claims;
using Halley.Channels;

namespace Halley.Security.Auth;

/// <summary>
/// The configured channel rules (<c>Halley:Auth:Channels</c>), parsed once. For a channel, the rules are read in
/// order and the first whose pattern matches every channel it names decides. A subscription to a pattern
/// (<c>/chat/**</c>) may reach channels of several rules: each rule before the deciding one that reaches some of the
/// same channels must allow it too, so a wildcard never reads what its concrete channels may not.
/// </summary>
internal sealed class ChannelRuleSet
{
    /// <summary>The pattern segment that stands for the client's own subject.</summary>
    public const string SubjectSegment = "{sub}";

    private readonly Rule[] _rules;

    public ChannelRuleSet(IEnumerable<ChannelRule> rules)
    {
        _rules = [.. rules.Select(r => new Rule(
            Segments(r.Pattern),
            ChannelRequirement.Parse(r.Subscribe) ?? throw new ArgumentException($"Subscribe '{r.Subscribe}' is none of {ChannelRequirement.Forms}"),
            ChannelRequirement.Parse(r.Publish) ?? throw new ArgumentException($"Publish '{r.Publish}' is none of {ChannelRequirement.Forms}")))];
    }

    /// <summary>Whether there are no rules (every channel open).</summary>
    public bool IsEmpty => _rules.Length == 0;

    /// <summary>Whether <paramref name="rule"/> can be used: a valid pattern (with <c>{sub}</c> as a whole segment) and known requirements.</summary>
    public static bool IsValid(ChannelRule rule, out string error)
    {
        error = "";
        if (!ChannelName.IsValid(rule.Pattern?.Replace(SubjectSegment, "sub", StringComparison.Ordinal), out _)
            || Segments(rule.Pattern!).Any(s => s.Contains('{', StringComparison.Ordinal) && s != SubjectSegment))
        {
            error = $"Pattern '{rule.Pattern}' is not a channel name or pattern";
        }
        else if (ChannelRequirement.Parse(rule.Subscribe) is null)
        {
            error = $"Subscribe '{rule.Subscribe}' is none of {ChannelRequirement.Forms}";
        }
        else if (ChannelRequirement.Parse(rule.Publish) is not { } publish)
        {
            error = $"Publish '{rule.Publish}' is none of {ChannelRequirement.Forms}";
        }
        else if (publish.Who == ChannelRequirement.Kind.Token)
        {
            error = "Publish cannot be 'token': subscription tokens grant subscriptions only";
        }
        return error.Length == 0;
    }

    /// <summary>
    /// Checks <paramref name="operation"/> on <paramref name="channel"/> (a name, or a pattern for a subscription) for
    /// <paramref name="user"/>. Null when allowed; else the reason. <paramref name="needsToken"/> says a deciding or
    /// reached rule wants a subscription token, which the caller then checks.
    /// </summary>
    public string? Check(ChannelOperation operation, string channel, ClaimsPrincipal? user, out bool needsToken)
    {
        needsToken = false;
        if (_rules.Length == 0)
        {
            return null;
        }
        var segments = Segments(channel);
        var subject = HalleyIdentity.SubjectOf(user);
        foreach (var rule in _rules)
        {
            var reach = Reach(rule.Segments, segments, subject, out var ownOnly);
            if (reach == Reaches.None)
            {
                continue;
            }
            var requirement = operation == ChannelOperation.Subscribe ? rule.Subscribe : rule.Publish;
            if (operation == ChannelOperation.Publish && requirement.Who == ChannelRequirement.Kind.Token)
            {
                return "server_only";
            }
            if (requirement.Check(user) is { } reason)
            {
                return reason;
            }
            if (ownOnly == false)
            {
                return HalleyIdentity.IsAuthenticated(user) ? "not_your_channel" : ChannelRequirement.AuthenticationRequired;
            }
            needsToken |= requirement.Who == ChannelRequirement.Kind.Token;
            if (reach == Reaches.All)
            {
                return null;
            }
        }
        return null;
    }

    private enum Reaches
    {
        None,
        Some,
        All,
    }

    /// <summary>
    /// How much of <paramref name="channel"/> (segments of a name or pattern) the rule pattern reaches: none of its
    /// channels, some, or all. <paramref name="ownOnly"/> is null when the pattern has no <c>{sub}</c>, else whether
    /// the channel's segment there is exactly <paramref name="subject"/>.
    /// </summary>
    private static Reaches Reach(string[] pattern, string[] channel, string? subject, out bool? ownOnly)
    {
        ownOnly = null;
        var all = true;
        for (var i = 0; i < pattern.Length; i++)
        {
            var p = pattern[i];
            if (p == "**")
            {
                // Any depth of one or more: the channel must have a segment left.
                return i < channel.Length ? (all ? Reaches.All : Reaches.Some) : Reaches.None;
            }
            if (i >= channel.Length)
            {
                return Reaches.None;
            }
            var c = channel[i];
            if (c == "**")
            {
                // The channel goes to any depth; a pattern that does not can only reach part of it.
                // Reaching every subject's channels at once is not reaching only one's own.
                if (pattern.AsSpan(i).Contains(SubjectSegment))
                {
                    ownOnly = false;
                }
                return Reaches.Some;
            }
            if (p == SubjectSegment)
            {
                ownOnly = ownOnly != false && c != "*" && subject is not null && c == subject;
                continue;
            }
            if (p == "*")
            {
                continue;
            }
            if (c == "*")
            {
                all = false;
                continue;
            }
            if (!string.Equals(p, c, StringComparison.Ordinal))
            {
                return Reaches.None;
            }
        }
        return channel.Length == pattern.Length ? (all ? Reaches.All : Reaches.Some) : Reaches.None;
    }

    private static string[] Segments(string name) => name.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private sealed record Rule(string[] Segments, ChannelRequirement Subscribe, ChannelRequirement Publish);
}
