using System.Diagnostics.Metrics;
using System.Text;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Extensions;
using Halley.Protocol;
using Halley.Security;
using Halley.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Halley.Tests.Infrastructure;

/// <summary>The real hub, registry and processor over the in-memory engine and a manual clock.</summary>
internal sealed class Harness : IDisposable
{
    private readonly ServiceProvider _provider;

    /// <param name="options">The server's options (defaults if null).</param>
    /// <param name="services">The service channel handlers.</param>
    /// <param name="extensions">Host extensions, registered after the built-in timesync and ack, as AddExtension does.</param>
    public Harness(HalleyOptions? options = null, ServiceChannelOptions? services = null, IEnumerable<IBayeuxExtension>? extensions = null,
        Func<IOptions<HalleyOptions>, TimeProvider, IMessageEngine>? engine = null)
    {
        Options = options ?? new HalleyOptions();
        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Metrics = new HalleyMetrics(_provider.GetRequiredService<IMeterFactory>());
        // The in-memory engine unless a test of the engine contract brings another (the Redis engine's properties).
        var messageEngine = (engine ?? InMemory)(Microsoft.Extensions.Options.Options.Create(Options), Time);
        Engine = new MessageHub(messageEngine, Metrics, Microsoft.Extensions.Options.Options.Create(Options));
        Registry = new SessionRegistry(Microsoft.Extensions.Options.Options.Create(Options), Engine, Metrics, Time, NullLogger<SessionRegistry>.Instance);
        var halleyOptions = Microsoft.Extensions.Options.Options.Create(Options);
        Binding = new SessionBinding(Registry, halleyOptions);
        Extensions = new ExtensionPipeline([new TimesyncExtension(Time), new AckExtension(), .. extensions ?? []], NullLogger<ExtensionPipeline>.Instance);
        Tokens = new Halley.Security.Auth.TokenValidator(halleyOptions, Time, NullLogger<Halley.Security.Auth.TokenValidator>.Instance);
        ChannelAuthorization = new Halley.Security.Auth.ChannelAuthorization([], Tokens, halleyOptions, Metrics);
        var serviceCalls = new ServiceCalls(Microsoft.Extensions.Options.Options.Create(services ?? new ServiceChannelOptions()), NullLogger<ServiceCalls>.Instance);
        Processor = new BayeuxProcessor(
            Registry,
            Binding,
            Extensions,
            new SubscriptionRequests(Engine, ChannelAuthorization, halleyOptions),
            new PublishRequests(Engine, serviceCalls, ChannelAuthorization),
            new Halley.Security.Auth.SessionAuthentication(Tokens, Registry, halleyOptions, Metrics, Time),
            halleyOptions,
            Time);
    }

    public HalleyOptions Options { get; }
    public ManualTimeProvider Time { get; } = new();
    public HalleyMetrics Metrics { get; }
    public MessageHub Engine { get; }
    /// <summary>The engine when it is the in-memory one (the default).</summary>
    public InMemoryMessageEngine InMemoryEngine => (InMemoryMessageEngine)Engine.Engine;

    /// <summary>Makes the default engine.</summary>
    public static IMessageEngine InMemory(IOptions<HalleyOptions> options, TimeProvider time) => new InMemoryMessageEngine(options, time);
    public SessionRegistry Registry { get; }
    public BayeuxProcessor Processor { get; }
    public SessionBinding Binding { get; }
    public Halley.Security.Auth.TokenValidator Tokens { get; }
    public Halley.Security.Auth.ChannelAuthorization ChannelAuthorization { get; }
    public ExtensionPipeline Extensions { get; }

    public static TransportContext Http(string? browserId = "0123456789abcdef0123456789abcdef") =>
        new() { ConnectionType = ConnectionTypes.LongPolling, BrowserId = browserId };

    public Task<EncodedMessage> PublishAsync(string channel, string dataJson = "{}") =>
        Engine.PublishAsync(channel, Encoding.UTF8.GetBytes(dataJson), default, CancellationToken.None).AsTask();

    /// <summary>Parses <paramref name="json"/> and runs it through the processor.</summary>
    public async Task<(List<BayeuxReply> Replies, PendingConnect? Connect)> SendAsync(string json, TransportContext? context = null)
    {
        var error = BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes(json), out var batch);
        Assert.Equal(BatchParseError.None, error);
        var replies = new List<BayeuxReply>();
        var connect = await Processor.ProcessAsync(batch, context ?? Http(), replies, CancellationToken.None);
        return (replies, connect);
    }

    /// <summary>Handshakes over HTTP and returns the new client id.</summary>
    public async Task<string> HandshakeAsync(TransportContext? context = null)
    {
        var (replies, _) = await SendAsync("""{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}""", context);
        var reply = Assert.Single(replies);
        Assert.True(reply.Successful, reply.Error);
        return reply.ClientId!;
    }

    public void Dispose()
    {
        Tokens.Dispose();
        Metrics.Dispose();
        _provider.Dispose();
    }
}

/// <summary>Renders replies as JSON for assertions on the wire form.</summary>
internal static class Wire
{
    public static string Write(BayeuxReply reply)
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            reply.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static System.Text.Json.JsonElement Parse(BayeuxReply reply) =>
        System.Text.Json.JsonDocument.Parse(Write(reply)).RootElement.Clone();

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}

internal static class Held
{
    /// <summary>The outcome of <paramref name="held"/> if it has completed already; null while it is still held.</summary>
    public static Halley.Sessions.ConnectOutcome? OutcomeNow(Halley.Sessions.HeldConnect held) =>
        held.Outcome.IsCompletedSuccessfully ? held.Outcome.Result : null;
}
