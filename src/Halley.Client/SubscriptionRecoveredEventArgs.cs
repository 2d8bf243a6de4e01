namespace Halley.Client;

/// <summary>The outcome of re-subscribing a <see cref="BayeuxSubscription"/> in a new session.</summary>
/// <param name="recovered">Whether every message missed meanwhile was replayed.</param>
public sealed class SubscriptionRecoveredEventArgs(bool recovered) : EventArgs
{
    /// <summary>True when nothing was lost; false when messages were (reload the state this subscription feeds).</summary>
    public bool Recovered { get; } = recovered;
}
