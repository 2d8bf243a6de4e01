using Halley.Client.Internal;

namespace Halley.Client.Tests.Internal;

public class TransportUriTests
{
    [Theory]
    [InlineData("http://localhost:8080/cometd", "ws://localhost:8080/cometd")]
    [InlineData("https://example.com/cometd", "wss://example.com/cometd")]
    [InlineData("ws://example.com/cometd", "ws://example.com/cometd")]
    public void WebSocketUriSwapsTheScheme(string endpoint, string expected) =>
        Assert.Equal(new Uri(expected), WebSocketClientTransport.ToWebSocketUri(new Uri(endpoint)));

    [Fact]
    public void RejectsOtherSchemes() =>
        Assert.Throws<ArgumentException>(() => new BayeuxClient(new BayeuxClientOptions { Endpoint = new Uri("ftp://example.com/cometd") }));

    [Theory]
    [InlineData("ws://localhost:8080/cometd", "http://localhost:8080/cometd")]
    [InlineData("https://example.com/cometd", "https://example.com/cometd")]
    public void LongPollingUriIsHttp(string endpoint, string expected) =>
        Assert.Equal(new Uri(expected), LongPollingClientTransport.ToHttpUri(new Uri(endpoint)));

    [Fact]
    public void OptionsHaveDocumentedDefaults()
    {
        var options = new BayeuxClientOptions { Endpoint = new Uri("http://localhost/cometd") };

        Assert.Equal(BayeuxTransport.WebSocket, options.Transport);
        Assert.Equal(TimeSpan.FromSeconds(30), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxBackoff);
        Assert.Null(options.HttpHandler);
        Assert.Null(options.ConfigureWebSocket);
    }
}
