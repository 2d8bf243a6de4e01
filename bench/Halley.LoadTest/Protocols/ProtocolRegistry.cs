namespace Halley.LoadTest.Protocols;

/// <summary>
/// The protocols the load generator can drive, by command-line name. To add one, add one line to
/// <see cref="Factories"/>: <c>["name"] = () =&gt; new MyProtocol(),</c>.
/// </summary>
public static class ProtocolRegistry
{
    private static readonly Dictionary<string, Func<IPushProtocol>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        // Bayeux works against any Bayeux server (Halley at /cometd, Faye at /faye): the URL is given whole.
        ["bayeux-ws"] = () => new BayeuxWebSocketProtocol("bayeux-ws"),
        ["bayeux-lp"] = () => new BayeuxLongPollingProtocol("bayeux-lp"),
        ["halley-ws"] = () => new BayeuxWebSocketProtocol("halley-ws"),
        ["halley-lp"] = () => new BayeuxLongPollingProtocol("halley-lp"),
        ["signalr"] = () => new SignalRProtocol(),
        ["kestrel-ws"] = () => new PlainWebSocketProtocol(),
    };

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names => [.. Factories.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Creates the protocol named <paramref name="name"/>, or throws with the list of known names.</summary>
    public static IPushProtocol Create(string name) =>
        Factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new ArgumentException($"Unknown protocol '{name}'. Known: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public static bool Contains(string name) => Factories.ContainsKey(name);
}
