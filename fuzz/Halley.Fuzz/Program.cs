using SharpFuzz;

namespace Halley.Fuzz;

/// <summary>
/// <c>Halley.Fuzz TARGET</c> runs under afl-fuzz (fuzz/run.sh), one input per run on standard input;
/// <c>Halley.Fuzz TARGET --replay FILE_OR_DIR…</c> runs inputs once each without afl-fuzz, to check a corpus or
/// reproduce a finding (exit code 1 and the exception when one throws).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: Halley.Fuzz {{{string.Join('|', Targets.All.Keys)}}} [--replay FILE_OR_DIR...]");
            return 2;
        }
        if (args.Length > 1 && args[1] == "--replay")
        {
            return Replay(target, args[2..]);
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }

    private static int Replay(Action<byte[]> target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]).ToList();
        foreach (var file in files)
        {
            try
            {
                target(File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"{file}: {ex}");
                return 1;
            }
        }
        Console.WriteLine($"{files.Count} inputs replayed, none threw.");
        return 0;
    }
}
