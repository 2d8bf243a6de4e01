using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Halley.Security.Auth;

/// <summary>Marks the endpoints <c>MapHalley</c> maps for the Bayeux endpoint, so their metadata can be found again.</summary>
internal sealed class BayeuxEndpointMetadata
{
    public static BayeuxEndpointMetadata Instance { get; } = new();
}

/// <summary>
/// Whether the host put authorization on the Bayeux endpoint (<c>MapHalley().RequireAuthorization()</c>). Such rules
/// live in the HTTP pipeline, which a WebSocket upgrade taken at Kestrel's connection level never enters: when they
/// exist, that path hands its upgrades to HTTP, so the host's authentication and authorization see them as any
/// other request. Read from the endpoint metadata once, when the first upgrade asks.
/// </summary>
internal sealed class HostAuthorization(IServiceProvider services)
{
    private bool? _required;

    /// <summary>Whether the Bayeux endpoint carries authorization metadata (and no <c>AllowAnonymous</c>).</summary>
    public bool IsRequiredOnBayeux => _required ??= Find();

    private bool Find()
    {
        var endpoints = services.GetService<EndpointDataSource>()?.Endpoints ?? [];
        return endpoints.Any(e => e.Metadata.GetMetadata<BayeuxEndpointMetadata>() is not null
            && e.Metadata.GetMetadata<IAuthorizeData>() is not null
            && e.Metadata.GetMetadata<IAllowAnonymous>() is null);
    }
}
