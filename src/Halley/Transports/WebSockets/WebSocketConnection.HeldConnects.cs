using Halley.Engine;
using Halley.Sessions;

namespace Halley.Transports.WebSockets;

/// <summary>Held <c>/meta/connect</c>s: answered when their outcome comes, or all at once when the lifetime ends.</summary>
internal sealed partial class WebSocketConnection
{
    // Usually one held connect per socket: a list stays smaller than a set.
    private readonly List<PendingConnect> _heldConnects = [];

    private void Hold(PendingConnect pending)
    {
        lock (_gate)
        {
            _heldConnects.Add(pending);
        }
        _ = CompleteWhenReleasedAsync(pending);
    }

    private async Task CompleteWhenReleasedAsync(PendingConnect pending)
    {
        var outcome = await pending.Held.Outcome.ConfigureAwait(false);
        lock (_gate)
        {
            if (!_heldConnects.Remove(pending))
            {
                return; // The socket closed; nobody is there to read a reply.
            }
        }
        var events = new List<EncodedMessage>();
        var reply = _processor.CompleteConnect(pending, outcome, events);
        lock (_gate)
        {
            _outgoing.Add(new OutgoingMessage(reply));
            foreach (var message in events)
            {
                _outgoing.Add(new OutgoingMessage(message));
            }
        }
        FlushNow();
    }

    /// <summary>
    /// Answers every held connect with advice to reconnect at once (what a delivery or a timeout was about to
    /// answer becomes that too); returns the replies, each followed by the events it carries.
    /// </summary>
    private List<OutgoingMessage> AnswerHeldConnectsForClose()
    {
        PendingConnect[] held;
        lock (_gate)
        {
            held = [.. _heldConnects];
            _heldConnects.Clear();
        }
        var items = new List<OutgoingMessage>(held.Length);
        foreach (var pending in held)
        {
            pending.Held.TryComplete(ConnectOutcome.ConnectionClosing);
            var outcome = pending.Held.Outcome.Result;
            if (outcome is ConnectOutcome.Messages or ConnectOutcome.Timeout)
            {
                outcome = ConnectOutcome.ConnectionClosing;
            }
            var events = new List<EncodedMessage>();
            items.Add(new OutgoingMessage(_processor.CompleteConnect(pending, outcome, events)));
            foreach (var message in events)
            {
                items.Add(new OutgoingMessage(message));
            }
        }
        return items;
    }
}
