using System.Diagnostics;
using System.Globalization;

namespace Halley.LoadTest.Reporting;

/// <summary>
/// CPU time of processes from <c>/proc/&lt;pid&gt;/stat</c> (<c>utime + stime</c>, in clock ticks of
/// <c>getconf CLK_TCK</c>). For a pid that leads its own session (compare.sh starts every target with
/// <c>setsid</c>) the whole session is counted, so a server made of several processes (Pushpin's runner,
/// condure, proxy, handler, zurl) is measured whole; for a single-process server that is the pid alone.
/// </summary>
internal static class ProcessCpu
{
    private static readonly Lazy<int> s_ticksPerSecond = new(ReadClockTicks);

    /// <summary>Clock ticks per second of <c>/proc/&lt;pid&gt;/stat</c> (<c>getconf CLK_TCK</c>; 100 when it cannot be read).</summary>
    public static int TicksPerSecond => s_ticksPerSecond.Value;

    /// <summary>One reading: CPU ticks used so far and how many processes they were summed over.</summary>
    public readonly record struct Sample(long Ticks, int Processes, long Timestamp)
    {
        /// <summary>CPU seconds between <paramref name="earlier"/> and this sample.</summary>
        public double CpuSecondsSince(Sample earlier) => Math.Max(0, Ticks - earlier.Ticks) / (double)TicksPerSecond;

        /// <summary>Wall-clock seconds between <paramref name="earlier"/> and this sample.</summary>
        public double SecondsSince(Sample earlier) => Stopwatch.GetElapsedTime(earlier.Timestamp, Timestamp).TotalSeconds;

        /// <summary>CPU used between the samples as a percentage of one core (200% = two cores busy).</summary>
        public double PercentSince(Sample earlier) => SecondsSince(earlier) > 0 ? 100 * CpuSecondsSince(earlier) / SecondsSince(earlier) : 0;
    }

    /// <summary>The server's CPU: <paramref name="pid"/>, or its whole session when it leads one; null when unreadable.</summary>
    public static Sample? ReadServer(int? pid)
    {
        if (pid is not { } p || Read(p) is not { } own)
        {
            return null;
        }
        if (own.Session != p)
        {
            return new Sample(own.Ticks, 1, Stopwatch.GetTimestamp());
        }
        long ticks = 0;
        var processes = 0;
        foreach (var directory in EnumerateProcesses())
        {
            if (Read(directory) is { } stat && stat.Session == p)
            {
                ticks += stat.Ticks;
                processes++;
            }
        }
        return new Sample(ticks, processes, Stopwatch.GetTimestamp());
    }

    /// <summary>The sum over <paramref name="pids"/> (the load generator: this process and its workers).</summary>
    public static Sample ReadAll(IEnumerable<int> pids)
    {
        long ticks = 0;
        var processes = 0;
        foreach (var pid in pids)
        {
            if (Read(pid) is { } stat)
            {
                ticks += stat.Ticks;
                processes++;
            }
        }
        return new Sample(ticks, processes, Stopwatch.GetTimestamp());
    }

    private static IEnumerable<int> EnumerateProcesses()
    {
        string[] entries;
        try
        {
            entries = Directory.GetDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>utime + stime and the session id of one process, or null when it is gone or unreadable.</summary>
    private static (long Ticks, int Session)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …": comm may
        // hold spaces and parentheses, so split after its last ')'. Field 3 (state) is then index 0.
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !int.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var session)
            || !long.TryParse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture, out var utime)
            || !long.TryParse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture, out var stime))
        {
            return null;
        }
        return (utime + stime, session);
    }

    private static int ReadClockTicks()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is not null)
            {
                var output = process.StandardOutput.ReadToEnd();
                process.WaitForExit(5000);
                if (int.TryParse(output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0)
                {
                    return ticks;
                }
            }
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
        }
        return 100;
    }
}
