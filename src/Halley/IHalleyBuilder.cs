using Halley.Engine;
using Halley.Extensions;
using Halley.Security;
using Halley.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Halley;

/// <summary>Configures Halley after <see cref="HalleyServiceCollectionExtensions.AddHalley"/>.</summary>
public interface IHalleyBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>Answers requests on the service channel <paramref name="channel"/> (e.g. <c>/service/echo</c>).</summary>
    IHalleyBuilder AddService(string channel, BayeuxServiceHandler handler);

    /// <summary>
    /// Adds <typeparamref name="TAuthorizer"/> (a singleton) to the authorizers asked before any Bayeux connection or
    /// stream opens, on every transport and accept path (see <see cref="IConnectionAuthorizer"/>).
    /// </summary>
    IHalleyBuilder AddConnectionAuthorizer<TAuthorizer>() where TAuthorizer : class, IConnectionAuthorizer;

    /// <summary>
    /// Adds <typeparamref name="TAuthorizer"/> (a singleton) to the authorizers asked, after the configured channel
    /// rules (<c>Halley:Auth:Channels</c>), whether a client may subscribe to or publish on a channel (see
    /// <see cref="IChannelAuthorizer"/>).
    /// </summary>
    IHalleyBuilder AddChannelAuthorizer<TAuthorizer>() where TAuthorizer : class, IChannelAuthorizer;

    /// <summary>
    /// Adds <typeparamref name="TExtension"/> (a singleton) to the Bayeux extensions, after those already added:
    /// its incoming hooks run after theirs, its outgoing hooks before theirs. <c>AddHalley</c> adds the
    /// <c>timesync</c> and <c>ack</c> extensions first. See <see cref="IBayeuxExtension"/> for the contract.
    /// </summary>
    IHalleyBuilder AddExtension<TExtension>() where TExtension : class, IBayeuxExtension;

    /// <summary>
    /// Runs this node on <typeparamref name="TEngine"/> (a singleton) instead of the in-memory engine: the extension
    /// point of engines such as Redis (<see cref="IMessageEngine"/> is the contract it keeps).
    /// </summary>
    IHalleyBuilder UseEngine<TEngine>() where TEngine : class, IMessageEngine;
}
