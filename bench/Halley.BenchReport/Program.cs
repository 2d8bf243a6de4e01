using Halley.BenchReport;

// Usage: Halley.BenchReport RUN_DIR [--out REPORT.md]
// Reads every <group>--<target>[--<n>].json of RUN_DIR (written by bench/compare.sh), writes the report (default
// RUN_DIR/report.md) and its PNG charts into RUN_DIR.
string? dir = null;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length:
            output = args[++i];
            break;
        case "-h" or "--help":
            Console.WriteLine("usage: Halley.BenchReport RUN_DIR [--out REPORT.md]");
            return 0;
        default:
            if (dir is not null)
            {
                Console.Error.WriteLine($"unexpected argument '{args[i]}' (usage: Halley.BenchReport RUN_DIR [--out REPORT.md])");
                return 2;
            }
            dir = args[i];
            break;
    }
}
if (dir is null || !Directory.Exists(dir))
{
    Console.Error.WriteLine("usage: Halley.BenchReport RUN_DIR [--out REPORT.md] (RUN_DIR must exist)");
    return 2;
}
output ??= Path.Combine(dir, "report.md");
var run = RunData.Load(dir);
if (run.Results.Count == 0)
{
    Console.Error.WriteLine($"no results (<group>--<target>.json) in {dir}");
    return 1;
}
var text = new Report(run, output).Build();
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
File.WriteAllText(output, text);
Console.WriteLine($"Report written to {output} ({run.Results.Count} results).");
return 0;
