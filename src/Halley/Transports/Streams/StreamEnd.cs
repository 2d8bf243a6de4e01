namespace Halley.Transports.Streams;

/// <summary>Why a stream's writer stopped.</summary>
internal enum StreamEnd
{
    /// <summary>The source ended it: the client left, another stream took over, or the source gave up on a slow client.</summary>
    Ended,

    /// <summary>Its lifetime ended: the closing bytes (<see cref="StreamFormat.WriteEnd"/>) went out.</summary>
    LifetimeEnded,

    /// <summary>The response could not be written to any more.</summary>
    ClientGone,
}
