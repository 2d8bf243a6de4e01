using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Halley.Engine;

/// <summary>
/// Where a message sits in this engine's history: the <see cref="Epoch"/> of the history it belongs to and its
/// <see cref="Offset"/> in it. Offsets are taken from one sequence shared by every channel of the engine, so they
/// increase across channels in the order subscribers receive messages: one position says where a client is on
/// every channel at once (one SSE <c>id:</c> resumes all the channels of a request, a wildcard resumes every
/// channel it matches). Within a channel offsets increase but are not contiguous.
/// </summary>
/// <remarks>The wire form, <c>epoch:offset</c> (e.g. <c>k3j9x2ab:42</c>), is what clients store and send back.</remarks>
/// <param name="Epoch">Names one lifetime of the history; a different epoch means what the client saw is gone.</param>
/// <param name="Offset">The message's place in the sequence; 0 is "before the first message".</param>
public readonly record struct StreamPosition(string Epoch, long Offset)
{
    /// <summary>Longest text <see cref="TryParse"/> looks at; anything longer is not a position.</summary>
    public const int MaxLength = 64;

    /// <summary>Room enough for the UTF-8 wire form of any position this engine makes (an ASCII epoch, ':', a long).</summary>
    internal const int MaxFormattedLength = MaxLength + 21;

    /// <summary>The wire form, <c>epoch:offset</c>.</summary>
    public override string ToString() => Epoch + ":" + Offset.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the wire form as UTF-8 into <paramref name="destination"/> (at least <see cref="MaxFormattedLength"/> bytes); returns its length.</summary>
    internal int FormatUtf8(Span<byte> destination)
    {
        // Epochs are ASCII letters and digits (see TryParse), so one char is one byte.
        var length = System.Text.Encoding.ASCII.GetBytes(Epoch, destination);
        destination[length++] = (byte)':';
        if (!Offset.TryFormat(destination[length..], out var digits, provider: CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("The destination is too small for a position.", nameof(destination));
        }
        return length + digits;
    }

    /// <summary>Reads the wire form <c>epoch:offset</c>; false for anything else (client input is never trusted).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out StreamPosition position)
    {
        position = default;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            return false;
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !IsEpoch(text.AsSpan(0, colon))
            || !long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return false;
        }
        position = new StreamPosition(text[..colon], offset);
        return true;
    }

    private static bool IsEpoch(ReadOnlySpan<char> epoch)
    {
        foreach (var c in epoch)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
