namespace Halley.Protocol;

/// <summary>Why a request body could not be read as Bayeux at all (as opposed to one bad message in it).</summary>
internal enum BatchParseError
{
    None,
    MalformedJson,
    NotAMessageOrArray,

    /// <summary>More messages than <see cref="BatchLimits.MaxMessages"/>.</summary>
    TooManyMessages,

    /// <summary>Bytes that are not UTF-8 (JSON text must be, RFC 8259 §8.1).</summary>
    InvalidUtf8,

    /// <summary>JSON nested deeper than <see cref="BatchLimits.MaxDepth"/>.</summary>
    TooDeep,
}
