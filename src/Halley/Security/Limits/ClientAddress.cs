using System.Net;
using System.Net.Sockets;

namespace Halley.Security.Limits;

/// <summary>The key per-address limits count a client under.</summary>
internal static class ClientAddress
{
    /// <summary>
    /// An IPv4 address as it is (IPv4-mapped IPv6 as IPv4); an IPv6 address by its /64 prefix, the smallest block an
    /// ISP hands out, since one host can pick any address in it. Null (no address: a test server, a Unix socket)
    /// stays null, and per-address limits do not apply to it.
    /// </summary>
    public static IPAddress? KeyOf(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
