namespace Halley.Client.Tests.Integration;

/// <summary>One real server per test class; <see cref="RestartAsync"/> brings it back on the same port with no sessions.</summary>
public class HalleyServerFixture : IAsyncLifetime
{
    private HalleyServerProcess? _server;

    public HalleyServerProcess Server => _server ?? throw new InvalidOperationException("The server is not running.");

    public Uri Endpoint => Server.Endpoint;

    protected virtual string[] Arguments => [];

    public async Task InitializeAsync() => _server = await HalleyServerProcess.StartAsync(0, Arguments);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Kills the server and starts a new one on the same port: every session is forgotten.</summary>
    public async Task RestartAsync()
    {
        var port = Server.BaseAddress.Port;
        await Server.DisposeAsync();
        _server = null;
        _server = await HalleyServerProcess.StartAsync(port, Arguments);
    }

    /// <summary>Stops the server; <see cref="StartAgainAsync"/> brings it back on the same port.</summary>
    public async Task<int> StopAsync()
    {
        var port = Server.BaseAddress.Port;
        await Server.DisposeAsync();
        _server = null;
        return port;
    }

    public async Task StartAgainAsync(int port) => _server = await HalleyServerProcess.StartAsync(port, Arguments);
}

/// <summary>A server that forgets a silent session after one second and keeps history on every channel, for recovery tests.</summary>
public sealed class ShortSessionServerFixture : HalleyServerFixture
{
    protected override string[] Arguments => ["--Halley:MaxInterval=00:00:01", "--Halley:History:Channels:/**:Size=1000"];
}

/// <summary>A server that ends every long-lived connection (WebSockets included) after about two seconds.</summary>
public sealed class ShortLifetimeServerFixture : HalleyServerFixture
{
    protected override string[] Arguments => ["--Halley:MaxConnectionLifetime=00:00:02"];
}
