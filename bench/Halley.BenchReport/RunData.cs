using System.Globalization;
using System.Text.Json.Nodes;

namespace Halley.BenchReport;

/// <summary>
/// One result of a compare.sh run: <c>&lt;group&gt;--&lt;target&gt;[--&lt;point&gt;].json</c> written by the load generator's
/// <c>--out</c>, plus <c>&lt;stem&gt;.cmd</c> (the exact server and load-generator commands) and, for fan-out,
/// <c>&lt;stem&gt;.tree-rss</c> (peak RSS of the target's whole process session, sampled by compare.sh).
/// </summary>
public sealed class Result
{
    public required string Stem { get; init; }
    public required string Group { get; init; }
    public required string Target { get; init; }
    public int? Point { get; init; }

    /// <summary>The third part of the name as given (a point, or a variant such as <c>3x</c>), or null.</summary>
    public string? Variant { get; init; }
    public required JsonObject Root { get; init; }
    public IReadOnlyList<string> Commands { get; init; } = [];
    public long? TreePeakRssKib { get; init; }
    public int? TreeProcesses { get; init; }

    public JsonNode? Results => Root["results"];
    public string? Error => Root["error"]?.GetValue<string>();
    public JsonNode? Parameters => Root["parameters"];

    /// <summary>A number at a path under <c>results</c> (e.g. <c>latency.p99Ms</c>), or null.</summary>
    public double? R(string path) => Num(Results, path);

    public double? P(string path) => Num(Parameters, path);

    public static double? Num(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node?[part];
        }
        if (node is JsonValue v)
        {
            if (v.TryGetValue<double>(out var d))
            {
                return d;
            }
            if (v.TryGetValue<long>(out var l))
            {
                return l;
            }
            if (v.TryGetValue<int>(out var i))
            {
                return i;
            }
            if (v.TryGetValue<bool>(out var b))
            {
                return b ? 1 : 0;
            }
        }
        return null;
    }

    /// <summary>Whether the run produced figures (no error, a results object).</summary>
    public bool Ok => Error is null && Results is JsonObject;
}

/// <summary>Everything in one run directory.</summary>
public sealed class RunData
{
    public required string Directory { get; init; }
    public required IReadOnlyList<Result> Results { get; init; }
    public required IReadOnlyDictionary<string, string> Meta { get; init; }
    public required IReadOnlyList<string> BuildCommands { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required IReadOnlyList<string> UnreadableFiles { get; init; }

    public bool Quick => Meta.TryGetValue("mode", out var m) && m == "quick";

    public IEnumerable<Result> Group(string group) => Results.Where(r => r.Group == group);

    public Result? Find(string group, string target) => Results.FirstOrDefault(r => r.Group == group && r.Target == target);

    public static RunData Load(string directory)
    {
        var results = new List<Result>();
        var unreadable = new List<string>();
        foreach (var file in System.IO.Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            var stem = Path.GetFileNameWithoutExtension(file);
            var parts = stem.Split("--");
            if (parts.Length < 2)
            {
                continue;
            }
            JsonObject root;
            try
            {
                root = JsonNode.Parse(File.ReadAllText(file))?.AsObject() ?? throw new InvalidDataException("empty");
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException or InvalidOperationException)
            {
                unreadable.Add($"{Path.GetFileName(file)}: {ex.Message}");
                continue;
            }
            int? point = parts.Length > 2 && int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : null;
            var cmdFile = Path.Combine(directory, stem + ".cmd");
            var treeFile = Path.Combine(directory, stem + ".tree-rss");
            long? treePeak = null;
            int? treeProcs = null;
            if (File.Exists(treeFile))
            {
                // "<peak KiB> <processes>"
                var f = File.ReadAllText(treeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 0 && long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib) && kib > 0)
                {
                    treePeak = kib;
                }
                if (f.Length > 1 && int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                {
                    treeProcs = n;
                }
            }
            results.Add(new Result
            {
                Stem = stem,
                Group = parts[0],
                Target = parts[1],
                Point = point,
                Variant = parts.Length > 2 ? parts[2] : null,
                Root = root,
                Commands = File.Exists(cmdFile) ? [.. File.ReadAllLines(cmdFile).Where(l => l.Length > 0)] : [],
                TreePeakRssKib = treePeak,
                TreeProcesses = treeProcs,
            });
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var metaFile = Path.Combine(directory, "meta.txt");
        if (File.Exists(metaFile))
        {
            foreach (var line in File.ReadAllLines(metaFile))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    meta[line[..eq].Trim()] = line[(eq + 1)..].Trim();
                }
            }
        }
        static IReadOnlyList<string> Lines(string path) =>
            File.Exists(path) ? [.. File.ReadAllLines(path).Where(l => !string.IsNullOrWhiteSpace(l))] : [];
        return new RunData
        {
            Directory = directory,
            Results = results,
            Meta = meta,
            BuildCommands = Lines(Path.Combine(directory, "build.cmd")),
            Notes = Lines(Path.Combine(directory, "notes.txt")),
            UnreadableFiles = unreadable,
        };
    }
}
