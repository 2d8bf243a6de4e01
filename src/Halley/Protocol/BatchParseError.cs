namespace Halley.Protocol;

/// <summary>Why a request body could not be read as Bayeux at all (as opposed to one bad message in it).</summary>
internal enum BatchParseError
{
    None,
    MalformedJson,
    NotAMessageOrArray,

    /// <summary>More messages than <see cref="BatchLimits.MaxMessages"/>.</summary>
    TooManyMessages,

    /// <summary>JSON nested deeper than <see cref="BatchLimits.MaxDepth"/>.</summary>
    TooDeep,
}
