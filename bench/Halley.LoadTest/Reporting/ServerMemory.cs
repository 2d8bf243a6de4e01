using System.Globalization;

namespace Halley.LoadTest.Reporting;

/// <summary>Reads a process's resident set size from <c>/proc/&lt;pid&gt;/status</c> (<c>VmRSS</c>).</summary>
internal static class ServerMemory
{
    public static long? ReadRss(int? pid)
    {
        if (pid is null)
        {
            return null;
        }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
