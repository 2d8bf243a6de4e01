using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Halley.Testing;

/// <summary>
/// A real redis-server on a free loopback port, without persistence (<c>--save '' --appendonly no</c>), started as a
/// child process and killed on dispose. Shared by the unit and the functional tests (linked into both projects);
/// test.sh installs redis-server when it is missing.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The port it listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for it.</summary>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false";

    /// <summary>Starts a redis-server and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var port = FreePort();
        var server = new RedisServer(Launch(port), port);
        await server.WaitUntilReadyAsync();
        return server;
    }

    /// <summary>Runs a command and returns Redis' reply line (e.g. <c>+OK</c>), over a plain socket of its own.</summary>
    public async Task<string> CommandAsync(params string[] command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var request = new StringBuilder($"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadLineAsync().WaitAsync(StartTimeout) ?? string.Empty;
    }

    /// <summary>Kills the server (its data is gone: it keeps none on disk) and starts a new one on the same port.</summary>
    public async Task RestartAsync()
    {
        Stop();
        await StartAgainAsync();
    }

    /// <summary>Kills the server: a Redis outage. <see cref="StartAgainAsync"/> ends it (with no data).</summary>
    public void Stop() => Kill();

    /// <summary>Starts a new server on the same port after <see cref="Stop"/> and waits until it answers PING.</summary>
    public async Task StartAgainAsync()
    {
        _process = Launch(Port);
        await WaitUntilReadyAsync();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }

    private static Process Launch(int port)
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed (test.sh installs it: apt-get install -y redis-server).");
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        // Drained so a full pipe never blocks it.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                if (await CommandAsync("PING") == "+PONG")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                // Not listening yet.
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {StartTimeout.TotalSeconds} s.");
            }
            // Polling a process that gives no other signal that it listens: the only wait in these fixtures.
            await Task.Delay(20);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
