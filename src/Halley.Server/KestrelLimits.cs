using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Halley.Server;

/// <summary>Binds the section <c>Kestrel:Limits</c> onto Kestrel's limits, which Kestrel does not read from configuration itself.</summary>
internal static class KestrelLimits
{
    /// <summary>
    /// Binds every settable limit (<c>KeepAliveTimeout</c>, <c>RequestHeadersTimeout</c>, <c>MaxRequestHeaderCount</c>,
    /// <c>MaxConcurrentConnections</c>…) and the data rates, which are immutable objects:
    /// <c>MinRequestBodyDataRate:BytesPerSecond</c> and <c>:GracePeriod</c> (and the same for <c>MinResponseDataRate</c>).
    /// </summary>
    public static void Bind(IConfigurationSection section, KestrelServerLimits limits)
    {
        if (!section.Exists())
        {
            return;
        }
        section.Bind(limits);
        limits.MinRequestBodyDataRate = Rate(section.GetSection("MinRequestBodyDataRate"), limits.MinRequestBodyDataRate);
        limits.MinResponseDataRate = Rate(section.GetSection("MinResponseDataRate"), limits.MinResponseDataRate);
    }

    private static MinDataRate? Rate(IConfigurationSection section, MinDataRate? current)
    {
        if (!section.Exists() || current is null)
        {
            return current;
        }
        var bytesPerSecond = section.GetValue("BytesPerSecond", current.BytesPerSecond);
        var gracePeriod = section.GetValue("GracePeriod", current.GracePeriod);
        return new MinDataRate(bytesPerSecond, gracePeriod);
    }
}
