using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Halley.Client.Tests.Integration;

/// <summary>
/// The real Halley server as a child process: <c>dotnet Halley.Server.dll --urls http://127.0.0.1:0</c>,
/// its address read back from the ASP.NET Core "Now listening on:" line.
/// </summary>
public sealed partial class HalleyServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HalleyServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    public Uri Endpoint => new(BaseAddress, "/cometd");

    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the server on <paramref name="port"/> (0: any free port) with extra configuration arguments.</summary>
    public static async Task<HalleyServerProcess> StartAsync(int port = 0, params string[] arguments)
    {
        var dll = LocateServerDll();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Console logging on so the "Now listening on" line is printed whatever appsettings says.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The server exited with code {process.ExitCode} before listening:{Environment.NewLine}{string.Join(Environment.NewLine, output)}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var address = await listening.Task.WaitAsync(StartTimeout);
            var server = new HalleyServerProcess(process, address);
            foreach (var line in output)
            {
                server._output.Enqueue(line);
            }

            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            return server;
        }
        catch
        {
            Kill(process);
            throw;
        }

        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            var match = ListeningLine().Match(line);
            if (match.Success)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value.TrimEnd('/') + "/"));
            }
        }
    }

    /// <summary>
    /// <c>HALLEY_SERVER_DLL</c>, else the default build output under the repository root
    /// (<c>src/Halley.Server/bin/&lt;Configuration&gt;/net10.0/Halley.Server.dll</c>, or the artifacts layout).
    /// </summary>
    public static string LocateServerDll()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("HALLEY_SERVER_DLL");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? Path.GetFullPath(fromEnvironment)
                : throw new FileNotFoundException($"HALLEY_SERVER_DLL points to '{fromEnvironment}', which does not exist.");
        }

        var root = FindRepositoryRoot();
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string[] candidates =
        [
            Path.Combine(root, "src", "Halley.Server", "bin", configuration, "net10.0", "Halley.Server.dll"),
            Path.Combine(root, "artifacts", "bin", "Halley.Server", configuration.ToLowerInvariant(), "Halley.Server.dll"),
        ];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"Halley.Server.dll not found (looked at {string.Join(", ", candidates)}). Build it first: "
                + "dotnet build src/Halley.Server, or set HALLEY_SERVER_DLL.");
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Halley.slnx")) || File.Exists(Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }

        // Built with --artifacts-path outside the tree: fall back to the working directory's ancestors.
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Halley.slnx")) || File.Exists(Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("No folder with Halley.slnx or global.json above the test assembly or working directory.");
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    [GeneratedRegex(@"Now listening on:\s*(http://\S+)")]
    private static partial Regex ListeningLine();
}
