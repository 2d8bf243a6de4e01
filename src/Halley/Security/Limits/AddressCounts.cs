using System.Collections.Concurrent;
using System.Net;

namespace Halley.Security.Limits;

/// <summary>How many of something (sessions, connections) each client address holds, bounded per address.</summary>
internal sealed class AddressCounts
{
    private readonly ConcurrentDictionary<IPAddress, int> _counts = new();

    /// <summary>Takes one for <paramref name="address"/> unless it holds <paramref name="limit"/> already. A null address is not counted.</summary>
    public bool TryAcquire(IPAddress? address, int limit)
    {
        if (address is null)
        {
            return true;
        }
        while (true)
        {
            if (!_counts.TryGetValue(address, out var count))
            {
                if (_counts.TryAdd(address, 1))
                {
                    return true;
                }
                continue;
            }
            if (count >= limit)
            {
                return false;
            }
            if (_counts.TryUpdate(address, count + 1, count))
            {
                return true;
            }
        }
    }

    /// <summary>Gives one back; the address's entry goes when its count reaches zero, so the table holds only present clients.</summary>
    public void Release(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }
        while (_counts.TryGetValue(address, out var count))
        {
            if (count <= 1
                ? _counts.TryRemove(new KeyValuePair<IPAddress, int>(address, count))
                : _counts.TryUpdate(address, count - 1, count))
            {
                return;
            }
        }
    }

    /// <summary>What <paramref name="address"/> holds now (tests and diagnostics).</summary>
    public int CountOf(IPAddress address) => _counts.TryGetValue(address, out var count) ? count : 0;
}
