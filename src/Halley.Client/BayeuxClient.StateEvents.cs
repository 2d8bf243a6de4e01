namespace Halley.Client;

// Ordered state events: State changes and the StateChanged event, raised one at a time in the order of the changes.
public sealed partial class BayeuxClient
{
    // State changes waiting to be raised, in the order they were made; see RaiseStateChanged.
    private readonly Queue<BayeuxClientStateChangedEventArgs> _stateChanges = new();
    private bool _raisingStateChanges;

    private void SetState(BayeuxClientState state)
    {
        BayeuxClientState previous;
        lock (_gate)
        {
            previous = _state;
            if (previous == state || (_disconnecting && state == BayeuxClientState.Reconnecting))
            {
                return;
            }

            // A connect reply that was on its way when a request learnt the session is gone must not report that
            // session alive again: requests waiting for Connected would go out in it and meet another 402.
            if (state == BayeuxClientState.Connected && _handshakeRequestedFor is not null && _handshakeRequestedFor == _clientId)
            {
                return;
            }

            _state = state;
            if (previous == BayeuxClientState.Connected)
            {
                _leftConnected.TrySetResult();
            }

            if (state == BayeuxClientState.Connected)
            {
                _connected.TrySetResult();
                if (_leftConnected.Task.IsCompleted)
                {
                    _leftConnected = NewSignal();
                }
            }
            else if (state == BayeuxClientState.Disconnected)
            {
                // Wake requests waiting for recovery, which is not coming; they find no session and throw.
                _connected.TrySetResult();
                _connected = NewSignal();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = NewSignal();
            }

            // Queued in the same lock as the change itself, so the queue's order is the order of the changes.
            _stateChanges.Enqueue(new BayeuxClientStateChangedEventArgs(previous, state));
            if (_raisingStateChanges)
            {
                return;
            }

            _raisingStateChanges = true;
        }

        RaiseStateChanges();
    }

    /// <summary>
    /// Raises <see cref="StateChanged"/> for the changes in the order they were made. Changes come from several
    /// threads (the connect loop, the transport's receive loop, the application); raised straight from each, a
    /// handler could see Connected before the Reconnecting that preceded it, and wait forever for a reconnect that
    /// already happened. So each change is queued where it is made, under the lock, and one thread at a time raises
    /// the queue in order (a handler that changes the state itself queues the change, raised after it returns).
    /// Called by the thread that set <c>_raisingStateChanges</c>; it raises until the queue is empty.
    /// </summary>
    private void RaiseStateChanges()
    {
        while (true)
        {
            BayeuxClientStateChangedEventArgs next;
            lock (_gate)
            {
                if (!_stateChanges.TryDequeue(out next!))
                {
                    _raisingStateChanges = false;
                    return;
                }
            }

            try
            {
                StateChanged?.Invoke(this, next);
            }
#pragma warning disable CA1031 // A subscriber's bug must not kill the connect loop that raised the event.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
