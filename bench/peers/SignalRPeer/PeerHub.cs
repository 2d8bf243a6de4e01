using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace Halley.Peers.SignalR;

/// <summary>Subscribe joins a group named after the channel; Publish sends "m" with the payload to the group.</summary>
internal sealed class PeerHub : Hub
{
    public Task Subscribe(string channel) => Groups.AddToGroupAsync(Context.ConnectionId, channel);

    // The group send serializes the invocation once per protocol and writes those bytes to every member.
    public Task Publish(string channel, JsonElement payload) => Clients.Group(channel).SendAsync("m", payload);
}
