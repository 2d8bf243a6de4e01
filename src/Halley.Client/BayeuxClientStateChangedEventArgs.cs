namespace Halley.Client;

/// <summary>Describes a change of <see cref="BayeuxClient.State"/>.</summary>
/// <param name="previousState">The state before the change.</param>
/// <param name="state">The state after the change.</param>
public sealed class BayeuxClientStateChangedEventArgs(BayeuxClientState previousState, BayeuxClientState state) : EventArgs
{
    /// <summary>The state before the change.</summary>
    public BayeuxClientState PreviousState { get; } = previousState;

    /// <summary>The state after the change.</summary>
    public BayeuxClientState State { get; } = state;
}
