using System.Buffers;

namespace Halley.LoadTest.Protocols;

/// <summary>The growth step every adapter's receive loop shares: buffers come from, and go back to, the shared pool.</summary>
internal static class RentedBuffer
{
    /// <summary>When the first <paramref name="length"/> bytes fill <paramref name="buffer"/>, swaps it for one twice the size, keeping them.</summary>
    public static void EnsureRoom(ref byte[] buffer, int length)
    {
        if (length < buffer.Length)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
