namespace Halley.Channels;

/// <summary>
/// The one place that says which channels may be used for what: every entry point (Bayeux subscribe and publish,
/// <c>/sse</c>, <c>/stream</c>, the backend API, <see cref="IHalleyPublisher"/>, service registration) asks it, and
/// only turns its verdict into that entry point's kind of error. Likewise the one rule for the script callback names
/// of JSONP (callback-polling) and the forever-frame.
/// </summary>
/// <remarks>
/// Per-client permissions (who may subscribe to what) are the security layer's and come after these rules, which
/// hold for everyone: a name that breaks them is refused before anyone is asked.
/// </remarks>
public static class ChannelPolicy
{
    /// <summary>Longest script callback name accepted by <see cref="IsValidCallbackName"/>.</summary>
    public const int MaxCallbackNameLength = 64;

    /// <summary>The callback-name rule in words, for error messages.</summary>
    public const string CallbackNameRule = "1 to 64 of A-Z a-z 0-9 _ . $";

    /// <summary>The channel-name rule in words, for error messages.</summary>
    public const string ChannelNameRule = "/-separated segments of letters, digits and - _ ! ~ ( ) $ @ . (a segment is not dots alone), ending, optionally, in /* or /**";

    /// <summary>
    /// Whether a client may subscribe to <paramref name="channel"/>: a valid name or pattern outside <c>/meta/**</c>
    /// and <c>/service/**</c>.
    /// </summary>
    public static ChannelVerdict ForSubscribe(string? channel)
    {
        if (!ChannelName.IsValid(channel, out _))
        {
            return ChannelVerdict.Invalid;
        }
        return ChannelName.KindOf(channel!) switch
        {
            ChannelKind.Meta => ChannelVerdict.Meta,
            ChannelKind.Service => ChannelVerdict.Service,
            _ => ChannelVerdict.Allowed,
        };
    }

    /// <summary>
    /// Whether a Bayeux client may publish on <paramref name="channel"/>: a concrete name outside <c>/meta/**</c>.
    /// A <c>/service/**</c> channel is allowed here: the message is a call to the server, not a broadcast
    /// (<see cref="ChannelName.KindOf"/> tells the two apart).
    /// </summary>
    public static ChannelVerdict ForClientPublish(string? channel)
    {
        if (!ChannelName.IsValid(channel, out var isWildcard))
        {
            return ChannelVerdict.Invalid;
        }
        if (isWildcard)
        {
            return ChannelVerdict.Wildcard;
        }
        return ChannelName.KindOf(channel!) == ChannelKind.Meta ? ChannelVerdict.Meta : ChannelVerdict.Allowed;
    }

    /// <summary>
    /// Whether <paramref name="channel"/> can carry a broadcast, as the backend API and <see cref="IHalleyPublisher"/>
    /// publish: a concrete name outside <c>/meta/**</c> and <c>/service/**</c>.
    /// </summary>
    public static ChannelVerdict ForBroadcast(string? channel) => ForClientPublish(channel) switch
    {
        ChannelVerdict.Allowed when ChannelName.KindOf(channel!) == ChannelKind.Service => ChannelVerdict.Service,
        var verdict => verdict,
    };

    /// <summary>Whether <paramref name="channel"/> can be given a service handler: a concrete <c>/service/**</c> name.</summary>
    public static ChannelVerdict ForService(string? channel) => ForClientPublish(channel) switch
    {
        ChannelVerdict.Allowed when ChannelName.KindOf(channel!) != ChannelKind.Service => ChannelVerdict.NotService,
        var verdict => verdict,
    };

    /// <summary>
    /// Whether <paramref name="name"/> may be written into a script as the function a JSONP reply or a forever-frame
    /// calls: 1 to 64 ASCII letters, digits, <c>_</c>, <c>.</c> and <c>$</c>, so it cannot break out of the script.
    /// </summary>
    public static bool IsValidCallbackName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxCallbackNameLength)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '$'))
            {
                return false;
            }
        }
        return true;
    }
}
