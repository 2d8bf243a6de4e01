using System.Diagnostics;
using System.Net.Sockets;

namespace Halley.FunctionalTests.Clustering;

/// <summary>
/// A Halley node as users run it: <c>Halley.Server.dll serve</c> in a process of its own, on a fixed loopback port
/// (so a balancer in front finds it again after a restart), killed with SIGKILL to crash it.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly string[] _settings;
    private Process? _process;

    private NodeProcess(int port, string[] settings)
    {
        Port = port;
        _settings = settings;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>Starts a node on a free port with <paramref name="settings"/> (<c>Key=Value</c> configuration) and waits until it is ready.</summary>
    public static async Task<NodeProcess> StartAsync(params string[] settings)
    {
        var node = new NodeProcess(FreePort(), settings);
        await node.StartAgainAsync();
        return node;
    }

    /// <summary>Starts the node (again, on the same port) and waits until <c>/readyz</c> answers 200.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Halley.Server.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{Port}");
        foreach (var setting in _settings)
        {
            info.ArgumentList.Add("--" + setting);
        }
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, $"The node on port {Port} exited with {(process.HasExited ? process.ExitCode : 0)}.");
            Assert.True(DateTime.UtcNow < deadline, $"The node on port {Port} did not become ready.");
            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: the node dies at once, with no shutdown of any kind.</summary>
    public void Crash()
    {
        _process?.Kill(entireProcessTree: true);
        _process?.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Crash();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
