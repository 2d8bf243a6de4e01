using Halley.Engine;

namespace Halley.Tests.Infrastructure;

/// <summary>
/// Synchronous forms of <see cref="MessageHub"/>'s calls for tests on the in-memory engine, whose every call completes
/// before it returns: each asserts that it did, so a test never blocks on, or skips past, work still in flight.
/// </summary>
internal static class InMemoryHubExtensions
{
    extension(MessageHub hub)
    {
        /// <summary>The in-memory engine's history size: channels with retained messages, and those messages.</summary>
        public (int Channels, long Messages) HistorySize => ((InMemoryMessageEngine)hub.Engine).HistorySize;

        public bool Subscribe(string channelOrPattern, ISubscriber subscriber) => Completed(hub.SubscribeAsync(channelOrPattern, subscriber));

        public Recovery Subscribe(IReadOnlyList<string> keys, ISubscriber subscriber, StreamPosition? since) => Completed(hub.SubscribeAsync(keys, subscriber, since));

        public HistoryPage ReadHistory(IReadOnlyList<string> keys, StreamPosition? since, int limit) => Completed(hub.ReadHistoryAsync(keys, since, limit));

        /// <summary>The shared sweep's pass over history.</summary>
        public void ExpireHistory() => hub.Sweep();
    }

    private static T Completed<T>(ValueTask<T> call)
    {
        Assert.True(call.IsCompleted, "The in-memory engine completes every call before it returns.");
        return call.GetAwaiter().GetResult();
    }
}
