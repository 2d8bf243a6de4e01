using System.Globalization;

namespace Halley.Client.Internal;

/// <summary>Reads Bayeux error strings, which have the form <c>code:args:message</c>.</summary>
internal static class BayeuxError
{
    /// <summary>The code that tells the client its session is gone and it must handshake again.</summary>
    public const int SessionUnknown = 402;

    public static int? ParseCode(string? error)
    {
        if (string.IsNullOrEmpty(error))
        {
            return null;
        }

        var colon = error.IndexOf(':', StringComparison.Ordinal);
        var code = colon < 0 ? error.AsSpan() : error.AsSpan(0, colon);
        return int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
