using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.LoadTest.Reporting;

namespace Halley.LoadTest.Scenarios;

/// <summary>The <c>run</c> command: the scenario under a live display, then the JSON result and a summary.</summary>
internal static class RunCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> ExecuteAsync(RunSettings settings, CancellationToken cancellationToken)
    {
        var view = new ProgressView();
        var startedAt = DateTimeOffset.UtcNow;
        JsonObject? figures = null;
        string? error = null;
        await view.RunAsync(async () =>
        {
            try
            {
                figures = await new Coordinator(settings, view).RunAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                error = $"{ex.GetType().Name}: {ex.Message}";
            }
        });
        var result = new JsonObject
        {
            ["label"] = settings.Label,
            ["protocol"] = settings.Protocol,
            ["url"] = settings.Url,
            ["scenario"] = settings.Scenario,
            ["parameters"] = new JsonObject
            {
                ["connections"] = settings.Connections,
                ["workers"] = settings.Workers,
                ["durationSeconds"] = settings.Duration,
                ["rate"] = settings.Rate,
                ["payloadBytes"] = settings.PayloadBytes,
                ["rooms"] = settings.Rooms,
                ["roomsPerClient"] = settings.RoomsPerClient,
                ["steps"] = new JsonArray([.. settings.Steps.Select(s => (JsonNode)s)]),
                ["publishVia"] = settings.PublishVia,
                ["publishers"] = settings.Publishers,
                ["inFlight"] = settings.InFlight,
                ["channels"] = settings.Channels,
                ["openConcurrency"] = settings.OpenConcurrency,
                ["serverPid"] = settings.ServerPid,
                ["seed"] = settings.Seed,
            },
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["memoryBytes"] = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                ["os"] = RuntimeInformation.OSDescription,
                ["dotnet"] = RuntimeInformation.FrameworkDescription,
            },
            ["startedAt"] = startedAt.ToString("O", CultureInfo.InvariantCulture),
            ["finishedAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["error"] = error,
            ["results"] = figures,
        };
        if (settings.Out is { } path)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }
            await File.WriteAllTextAsync(path, result.ToJsonString(Indented) + "\n", cancellationToken);
        }
        Console.WriteLine();
        Console.WriteLine(Summary.Describe(settings, figures, error));
        if (settings.Out is { } written)
        {
            Console.WriteLine($"Result written to {written}.");
        }
        return error is null ? 0 : 1;
    }
}
