using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Halley.LoadTest.Workers;

/// <summary>The coordinator's handle on one worker process: JSON-line requests matched to replies by sequence.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<WorkerReply>> _pending = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _readLoop;
    private readonly Task _errorLoop;
    private int _seq;

    private WorkerProcess(int index, Process process, Action<string> log)
    {
        Index = index;
        _process = process;
        _readLoop = Task.Run(ReadLoopAsync);
        _errorLoop = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                log($"worker {index}: {line}");
            }
        });
    }

    public int Index { get; }

    /// <summary>The last stats this worker sent (by any request).</summary>
    public WorkerReply LastStats { get; private set; } = new();

    /// <summary>Starts a copy of this executable as <c>worker</c> and waits for it to say it is ready.</summary>
    public static async Task<WorkerProcess> StartAsync(int index, int maxSeconds, Action<string> log, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var host = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            // Started as `dotnet Halley.LoadTest.dll`: start the workers the same way.
            info.FileName = host;
            info.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        }
        else
        {
            info.FileName = host;
        }
        info.ArgumentList.Add("worker");
        info.ArgumentList.Add("--max-seconds");
        info.ArgumentList.Add(maxSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start a worker.");
        var worker = new WorkerProcess(index, process, log);
        await worker._ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return worker;
    }

    public int ProcessId => _process.Id;

    /// <summary>Sends <paramref name="command"/> and waits for its reply (<paramref name="timeout"/>, 30 s by default).</summary>
    public async Task<WorkerReply> RequestAsync(WorkerCommand command, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        command.Seq = Interlocked.Increment(ref _seq);
        var reply = new TaskCompletionSource<WorkerReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[command.Seq] = reply;
        try
        {
            var line = JsonSerializer.Serialize(command, WorkerJson.Default.WorkerCommand);
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken);
                await _process.StandardInput.FlushAsync(cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }
            return await reply.Task.WaitAsync(timeout ?? RequestTimeout, cancellationToken);
        }
        finally
        {
            _pending.TryRemove(command.Seq, out _);
        }
    }

    public Task<WorkerReply> StatsAsync(CancellationToken cancellationToken) =>
        RequestAsync(new WorkerCommand { Cmd = "stats" }, cancellationToken);

    private async Task ReadLoopAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            WorkerReply? reply;
            try
            {
                reply = JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerReply);
            }
            catch (JsonException)
            {
                continue;
            }
            if (reply is null)
            {
                continue;
            }
            if (reply.Type == "ready")
            {
                _ready.TrySetResult();
                continue;
            }
            if (reply.Type is "stats" or "opened")
            {
                LastStats = reply;
            }
            if (_pending.TryGetValue(reply.Seq, out var waiter))
            {
                waiter.TrySetResult(reply);
            }
        }
        _ready.TrySetException(new InvalidOperationException($"worker {Index} exited (code {(_process.HasExited ? _process.ExitCode : -1)})"));
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetException(new InvalidOperationException($"worker {Index} exited"));
        }
    }

    /// <summary>Asks the worker to close its connections and exit; kills it if it does not within the bound.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await RequestAsync(new WorkerCommand { Cmd = "stop" }, CancellationToken.None, TimeSpan.FromSeconds(20));
            }
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
        {
        }
        try
        {
            _process.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        await Task.WhenAll(_readLoop, _errorLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
        _writeLock.Dispose();
    }
}
