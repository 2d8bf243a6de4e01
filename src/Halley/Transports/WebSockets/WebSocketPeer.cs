using System.Net;
using Halley.Security.Limits;

namespace Halley.Transports.WebSockets;

/// <summary>Who is at the other end of an accepted socket, and the limits its batches and sessions are held to.</summary>
/// <param name="BrowserId">The browser cookie the upgrade carried.</param>
/// <param name="RemoteAddress">The client's address, for per-address limits.</param>
/// <param name="Limits">The limits.</param>
internal sealed record WebSocketPeer(string? BrowserId, IPAddress? RemoteAddress, ClientLimits Limits);
