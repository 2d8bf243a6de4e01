using Halley.Api;
using Halley.Diagnostics;
using Halley.Engine;
using Halley.Extensions;
using Halley.Http;
using Halley.Security;
using Halley.Sessions;
using Halley.Transports;
using Halley.Transports.Polling;
using Halley.Transports.Streams;
using Halley.Transports.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Halley;

/// <summary>Registers Halley's services.</summary>
public static class HalleyServiceCollectionExtensions
{
    /// <summary>
    /// Adds Halley with the in-memory engine, bound to the configuration section <c>Halley</c>; another engine is
    /// chosen with <see cref="IHalleyBuilder.UseEngine{TEngine}"/>.
    /// </summary>
    public static IHalleyBuilder AddHalley(this IServiceCollection services, Action<HalleyOptions>? configure = null)
    {
        var options = services.AddOptions<HalleyOptions>().BindConfiguration(HalleyOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HalleyOptions>, HalleyOptionsValidator>());
        services.AddMetrics();
        services.AddCors();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMessageEngine, InMemoryMessageEngine>();
        services.TryAddSingleton<HalleyMetrics>();
        services.TryAddSingleton<Presence.IPresenceStore, Presence.LocalPresenceStore>();
        services.TryAddSingleton<MessageHub>();
        services.TryAddSingleton<IHalleyPublisher, HalleyPublisher>();
        services.TryAddSingleton<SessionRegistry>();
        services.TryAddSingleton<LiveConnections>();
        services.TryAddSingleton<SessionBinding>();
        // The built-in extensions, first and in this order (IEnumerable resolves in registration order): timesync is
        // the outermost, so its processing time covers the others, and since outgoing hooks run in reverse, ack adds
        // ext.ack before timesync adds ext.timesync: the order of keys replies had before extensions were pluggable.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBayeuxExtension, TimesyncExtension>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBayeuxExtension, AckExtension>());
        services.TryAddSingleton<ExtensionPipeline>();
        services.TryAddSingleton<ServiceCalls>();
        services.TryAddSingleton<SubscriptionRequests>();
        services.TryAddSingleton<PublishRequests>();
        services.TryAddSingleton<BayeuxProcessor>();
        services.TryAddSingleton<BrowserCookie>();
        services.TryAddSingleton<BayeuxCors>();
        services.TryAddSingleton<ApiKeyAuthorization>();
        services.TryAddSingleton<OriginPolicy>();
        services.TryAddSingleton<ConnectionAuthorization>();
        services.TryAddSingleton<Security.Auth.TokenValidator>();
        services.TryAddSingleton<Security.Auth.ConnectionAuthentication>();
        services.TryAddSingleton<Security.Auth.SessionAuthentication>();
        services.TryAddSingleton<Security.Auth.ChannelAuthorization>();
        services.TryAddSingleton<Security.Auth.HostAuthorization>();
        services.TryAddSingleton<Security.Limits.ClientLimits>();
        services.TryAddSingleton<PollingExchange>();
        services.TryAddSingleton<LongPollingTransport>();
        services.TryAddSingleton<CallbackPollingTransport>();
        services.TryAddSingleton<WebSocketTransport>();
        services.TryAddSingleton<EventSourceTransport>();
        services.TryAddSingleton<ConnectionWebSocketHandler>();
        services.TryAddSingleton<BayeuxEndpoint>();
        services.TryAddSingleton<ServerSentEventsTransport>();
        services.TryAddSingleton<HttpStreamingTransport>();
        services.TryAddSingleton<PublishApi>();
        services.TryAddSingleton<HistoryApi>();
        services.TryAddSingleton<DisconnectApi>();
        services.TryAddSingleton<PresenceApi>();
        services.TryAddSingleton<ClientScriptEndpoint>();
        services.AddHostedService<SessionSweeper>();
        return new HalleyBuilder(services);
    }

    private sealed class HalleyBuilder(IServiceCollection services) : IHalleyBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IHalleyBuilder AddService(string channel, BayeuxServiceHandler handler)
        {
            if (Channels.ChannelPolicy.ForService(channel) != Channels.ChannelVerdict.Allowed)
            {
                throw new ArgumentException($"'{channel}' is not a concrete /service/ channel.", nameof(channel));
            }
            Services.Configure<ServiceChannelOptions>(o => o.Handlers[channel] = handler);
            return this;
        }

        public IHalleyBuilder AddConnectionAuthorizer<TAuthorizer>() where TAuthorizer : class, IConnectionAuthorizer
        {
            Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionAuthorizer, TAuthorizer>());
            return this;
        }

        public IHalleyBuilder AddChannelAuthorizer<TAuthorizer>() where TAuthorizer : class, IChannelAuthorizer
        {
            Services.TryAddEnumerable(ServiceDescriptor.Singleton<IChannelAuthorizer, TAuthorizer>());
            return this;
        }

        public IHalleyBuilder AddExtension<TExtension>() where TExtension : class, IBayeuxExtension
        {
            Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBayeuxExtension, TExtension>());
            return this;
        }

        public IHalleyBuilder UseEngine<TEngine>() where TEngine : class, IMessageEngine
        {
            Services.RemoveAll<IMessageEngine>();
            Services.AddSingleton<IMessageEngine, TEngine>();
            return this;
        }
    }
}
