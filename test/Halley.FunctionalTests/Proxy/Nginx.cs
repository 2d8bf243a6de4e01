using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Proxy;

/// <summary>
/// A real nginx in front of a test server, on a free loopback port, running as the current user with its own
/// prefix and temp directories, <c>daemon off</c>, its error log in a file, and killed on dispose. Its server
/// configuration is the block documented in docs/deployment.md, with only the addresses (and the lines an
/// experiment names) changed.
/// </summary>
public sealed partial class Nginx : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string ErrorLog => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : "";

    /// <summary>The first <c>nginx</c> block of docs/deployment.md.</summary>
    public static string DocumentedConfig() => DocumentedConfig(AppContext.BaseDirectory);

    // The test assembly may be built outside the repository (--artifacts-path); this file's own path then finds it.
    private static string DocumentedConfig(string start, [System.Runtime.CompilerServices.CallerFilePath] string source = "")
    {
        static DirectoryInfo? Root(string? from)
        {
            var dir = from is null ? null : new DirectoryInfo(from);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Halley.slnx")))
            {
                dir = dir.Parent;
            }
            return dir;
        }
        var dir = Root(start) ?? Root(Path.GetDirectoryName(source));
        Assert.NotNull(dir);
        var doc = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "deployment.md"));
        var match = NginxBlock().Match(doc);
        Assert.True(match.Success, "docs/deployment.md has no ```nginx block");
        return match.Groups[1].Value;
    }

    /// <summary>Starts nginx in front of <paramref name="upstream"/>, with the documented config changed by <paramref name="edit"/>.</summary>
    public static async Task<Nginx> StartAsync(Uri upstream, Func<string, string>? edit = null)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("nginx is not installed (test.sh installs it: apt-get install -y nginx).");
        var port = FreePort();
        var config = DocumentedConfig();
        config = Replace(config, "server 127.0.0.1:8080;", $"server {upstream.Host}:{upstream.Port};");
        config = Replace(config, "listen 80;", $"listen 127.0.0.1:{port};");
        config = edit?.Invoke(config) ?? config;

        var directory = Directory.CreateTempSubdirectory("halley-nginx-").FullName;
        var user = Environment.UserName;
        var root = Environment.GetEnvironmentVariable("USER") == "root" || user == "root";
        File.WriteAllText(Path.Combine(directory, "nginx.conf"), $$"""
            {{(root ? "user root;" : "")}}
            daemon off;
            master_process on;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
            {{config}}
            }
            """);
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList = { "-p", directory, "-c", Path.Combine(directory, "nginx.conf"), "-e", Path.Combine(directory, "error.log") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var nginx = new Nginx(process, directory, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await Timeouts.Until(() => process.HasExited || CanConnect(port), "nginx listens");
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {nginx.ErrorLog}");
            }
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }
        return nginx;
    }

    private static string Replace(string config, string from, string to)
    {
        Assert.Contains(from, config);
        return config.Replace(from, to, StringComparison.Ordinal);
    }

    private static string? FindBinary()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':').Append("/usr/sbin").Append("/usr/local/sbin"))
        {
            var candidate = Path.Combine(dir, "nginx");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A worker may still hold a temp file for a moment; the directory is under the temp folder anyway.
        }
    }

    [GeneratedRegex("```nginx\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex NginxBlock();
}
