using System.Buffers;
using System.Text;
using Halley.Transports.WebSockets;
using Verdict = Halley.Transports.WebSockets.WebSocketUpgradeRequest.Verdict;

namespace Halley.Tests.Transports.WebSockets;

public sealed class WebSocketUpgradeRequestTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Head(string requestLine = "GET /cometd HTTP/1.1", string extra = "", string key = Key) =>
        $"{requestLine}\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n";

    private static Verdict Parse(string text, out WebSocketUpgradeRequest request) =>
        WebSocketUpgradeRequest.TryParse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), "/cometd", out request);

    [Fact]
    public void ValidUpgrade_IsRecognised_WithTheRfc6455AcceptValue()
    {
        var head = Head(extra: "Cookie: a=1; BAYEUX_BROWSER=abc\r\n");
        Assert.Equal(Verdict.Upgrade, Parse(head + "NEXT", out var request));
        Assert.Equal(head.Length, request.HeadLength);
        // The example from RFC 6455 section 1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", request.AcceptValue());
        Assert.Equal("abc", request.GetCookie("BAYEUX_BROWSER"));
        Assert.Null(request.GetCookie("missing"));
    }

    [Fact]
    public void OriginAndHost_AreRead_ForTheOriginPolicy()
    {
        Assert.Equal(Verdict.Upgrade, Parse(Head(extra: "Origin: http://app.example\r\n"), out var request));
        Assert.Equal("http://app.example", request.Origin);
        Assert.Equal("h", request.Host);
        Assert.Equal(Verdict.Upgrade, Parse(Head(), out var withoutOrigin));
        Assert.Null(withoutOrigin.Origin);
    }

    [Fact]
    public void ConnectionTokens_AreRead_FromTheAuthorizationHeaderAndTheQuery()
    {
        Assert.Equal(Verdict.Upgrade, Parse(Head("GET /cometd?x=1&access_token=a.b.c HTTP/1.1", "Authorization: Bearer t0k\r\n"), out var request));
        Assert.Equal("Bearer t0k", request.Authorization);
        Assert.Equal("a.b.c", request.AccessToken);
        Assert.Equal("/cometd", request.Path);
        // Two of either are ambiguous: neither is used.
        Assert.Equal(Verdict.Upgrade, Parse(Head("GET /cometd?access_token=a&access_token=b HTTP/1.1", "Authorization: Bearer x\r\nAuthorization: Bearer y\r\n"), out var twice));
        Assert.Null(twice.Authorization);
        Assert.Null(twice.AccessToken);
        Assert.Equal(Verdict.Upgrade, Parse(Head(), out var none));
        Assert.Null(none.Authorization);
        Assert.Null(none.AccessToken);
    }

    [Theory]
    [InlineData("Host: other\r\n")]
    [InlineData("Origin: http://a.example\r\nOrigin: http://b.example\r\n")]
    [InlineData("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")]
    public void TwoHostOrOriginHeaders_GoToHttp(string extra) =>
        // Ambiguous: which one is the page's origin, or the server's? Kestrel's HTTP layer decides (two Hosts get 400).
        Assert.Equal(Verdict.PassThrough, Parse(Head(extra: extra), out _));

    [Theory]
    [InlineData("GET /cometd/handshake HTTP/1.1")]
    [InlineData("GET /cometd?x=1 HTTP/1.1")]
    [InlineData("GET /cometd/ HTTP/1.1")]
    public void EndpointSubPathsAndQueries_AreUpgrades(string requestLine) =>
        Assert.Equal(Verdict.Upgrade, Parse(Head(requestLine), out _));

    [Theory]
    [InlineData("GET /cometdx HTTP/1.1")]
    [InlineData("GET /other HTTP/1.1")]
    [InlineData("GET /cometd HTTP/1.0")]
    [InlineData("POST /cometd HTTP/1.1")]
    public void OtherRequests_PassThrough(string requestLine) =>
        Assert.Equal(Verdict.PassThrough, Parse(Head(requestLine), out _));

    [Theory]
    [InlineData("Sec-WebSocket-Protocol: chat\r\n")]
    public void Subprotocols_PassThrough(string extra) => Assert.Equal(Verdict.PassThrough, Parse(Head(extra: extra), out _));

    [Theory]
    [InlineData("short")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ=!")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ")]
    public void InvalidKeys_PassThrough(string key) => Assert.Equal(Verdict.PassThrough, Parse(Head(key: key), out _));

    [Fact]
    public void MissingUpgradeHeaders_PassThrough()
    {
        Assert.Equal(Verdict.PassThrough, Parse("GET /cometd HTTP/1.1\r\nHost: h\r\n\r\n", out _));
        Assert.Equal(Verdict.PassThrough, Parse(Head().Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", StringComparison.Ordinal), out _));
    }

    [Theory]
    [InlineData("G")]
    [InlineData("GET /comet")]
    [InlineData("GET /cometd HTTP/1.1\r\nHost: h\r\n")]
    public void PartialHeads_NeedMore(string text) => Assert.Equal(Verdict.NeedMore, Parse(text, out _));

    [Theory]
    [InlineData("POST")]
    [InlineData("\u0016\u0003\u0001")]
    [InlineData("PRI * HTTP/2.0")]
    public void NonGetStarts_PassThroughAtOnce(string text) => Assert.Equal(Verdict.PassThrough, Parse(text, out _));

    [Fact]
    public void OversizeHead_PassesThrough() =>
        Assert.Equal(Verdict.PassThrough, Parse("GET /cometd HTTP/1.1\r\nX: " + new string('a', WebSocketUpgradeRequest.MaxHeadLength), out _));

    [Fact]
    public void HeadSplitAcrossSegments_IsParsed()
    {
        var bytes = Encoding.Latin1.GetBytes(Head());
        var first = new Segment(bytes.AsMemory(0, 10));
        var last = first.Append(bytes.AsMemory(10));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.Equal(Verdict.Upgrade, WebSocketUpgradeRequest.TryParse(sequence, "/cometd", out var request));
        Assert.Equal(bytes.Length, request.HeadLength);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
