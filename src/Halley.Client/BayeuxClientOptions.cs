using System.Net.WebSockets;

namespace Halley.Client;

/// <summary>Settings of a <see cref="BayeuxClient"/>.</summary>
public sealed class BayeuxClientOptions
{
    /// <summary>
    /// The Bayeux endpoint, e.g. <c>https://example.com/cometd</c>. The WebSocket transport derives its
    /// URL by swapping the scheme (http → ws, https → wss); ws/wss URIs are accepted as they are.
    /// </summary>
    public required Uri Endpoint { get; set; }

    /// <summary>The connection type to use. Default: <see cref="BayeuxTransport.WebSocket"/>.</summary>
    public BayeuxTransport Transport { get; set; } = BayeuxTransport.WebSocket;

    /// <summary>
    /// How long to wait for the reply to a request other than <c>/meta/connect</c> (handshake, subscribe,
    /// publish, ...). A held connect gets the server's advised timeout plus this. Default: 30 seconds.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest pause between two recovery attempts; the pause doubles from 100 ms up to this.
    /// There is no pause after the server closed a working WebSocket normally (WebSocket status 1000, e.g. at
    /// the end of its lifetime): the client then follows the server's advice. Default: 5 seconds.
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The handler that sends HTTP requests (long-polling) and, when set, opens the WebSocket.
    /// The client does not dispose it. For long-polling it must keep cookies (the server binds a session
    /// to its <c>BAYEUX_BROWSER</c> cookie): an <see cref="HttpClientHandler"/> or
    /// <see cref="SocketsHttpHandler"/> with a <see cref="System.Net.CookieContainer"/> does.
    /// When null the client creates a <see cref="SocketsHttpHandler"/> with its own cookie container.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Asks the server for CometD's <c>ack</c> extension: every message then travels in a numbered
    /// <c>/meta/connect</c> reply that the next connect acknowledges, and the server sends a batch again until it
    /// is acknowledged. This closes the one gap that positions and recovery leave: a message in flight when a
    /// connection drops while the session survives (a long-poll reply written to a dead socket). It costs latency
    /// and throughput on WebSocket, where messages otherwise go out the moment they are published. Default: false.
    /// </summary>
    public bool AcknowledgeMessages { get; set; }

    /// <summary>Called on each new <see cref="ClientWebSocket"/>'s options before it connects (headers, proxy, certificates).</summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }
}
