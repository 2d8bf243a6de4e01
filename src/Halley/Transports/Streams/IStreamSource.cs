using Halley.Engine;
using Halley.Sessions;

namespace Halley.Transports.Streams;

/// <summary>A long-lived stream as its writer sees it: where its messages wait, and what else is due.</summary>
internal interface IStreamSource
{
    /// <summary>When the stream last sent, for its heartbeat and lifetime.</summary>
    LiveClock Clock { get; }

    /// <summary>Completes when there is something to do.</summary>
    Task WaitAsync();

    /// <summary>Moves the waiting messages into <paramref name="events"/> and says what else is due.</summary>
    StreamWork Take(List<EncodedMessage> events);
}
