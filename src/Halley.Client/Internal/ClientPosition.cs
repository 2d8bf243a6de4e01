using System.Globalization;

namespace Halley.Client.Internal;

/// <summary>
/// A message's place in the server's history, read from the wire form <c>epoch:offset</c>. Offsets of one epoch
/// increase in the order the server delivers messages to a session; another epoch is another history.
/// </summary>
internal readonly record struct ClientPosition(string Epoch, long Offset)
{
    public override string ToString() => Epoch + ":" + Offset.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out ClientPosition position)
    {
        position = default;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (colon <= 0 || !long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return false;
        }

        position = new ClientPosition(text![..colon], offset);
        return true;
    }

    /// <summary>The later of two positions of one epoch; across epochs, <paramref name="next"/> (the newer history) wins.</summary>
    public static ClientPosition Latest(ClientPosition? current, ClientPosition next) =>
        current is { } c && c.Epoch == next.Epoch && c.Offset > next.Offset ? c : next;
}
