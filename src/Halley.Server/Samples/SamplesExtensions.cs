using Halley.Server.Samples.Chat;
using Halley.Server.Samples.Ticker;
using Halley.Sessions;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Halley.Server.Samples;

/// <summary>
/// The samples of <c>halley serve</c>: the chat room (<c>/samples/chat/</c>) and the market-data ticker
/// (<c>/samples/ticker/</c>), plain pages embedded in the executable that use only the public JavaScript client
/// from <c>/halley.js</c>, and the little they need on the server (the chat's history service, the ticker's feed).
/// The library registers none of it: a host that calls <c>AddHalley()</c> gets no sample.
/// </summary>
internal static class SamplesExtensions
{
    /// <summary>Where the pages are served.</summary>
    public const string RequestPath = "/samples";

    /// <summary>
    /// Registers the samples' services when <see cref="SamplesOptions.Enabled"/>: the chat's history service and its
    /// rooms' history rule, and the ticker's feed when it is enabled too. Returns whether the samples are on.
    /// </summary>
    public static bool AddSamples(this WebApplicationBuilder builder)
    {
        // Decided at composition: a disabled sample is not a service that idles, it is not there at all.
        var samples = builder.Configuration.GetSection(SamplesOptions.SectionName).Get<SamplesOptions>() ?? new SamplesOptions();
        if (!samples.Enabled)
        {
            return false;
        }
        var services = builder.Services;
        services.AddSingleton<ChatHistoryService>();
        services.AddOptions<ServiceChannelOptions>()
            .Configure<ChatHistoryService>(static (o, chat) => o.Handlers[ChatHistoryService.Channel] = chat.HandleAsync);
        // The rooms keep their recent messages, so a page that joins shows them. A rule the configuration gives the
        // same pattern wins (it was bound before this runs).
        services.PostConfigure<HalleyOptions>(static o => o.History.Channels.TryAdd(ChatHistoryService.RoomPattern, ChatHistoryService.RoomHistory));

        var ticker = builder.Configuration.GetSection(TickerOptions.SectionName);
        services.AddOptions<TickerOptions>().Bind(ticker).ValidateDataAnnotations().ValidateOnStart();
        if (ticker.Get<TickerOptions>()?.Enabled ?? new TickerOptions().Enabled)
        {
            services.AddHostedService<TickerFeed>();
        }
        return true;
    }

    /// <summary>Serves the samples' pages under <see cref="RequestPath"/> (<c>/samples/chat</c> redirects to <c>/samples/chat/</c>).</summary>
    public static void UseSamples(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(SamplesExtensions).Assembly, "Samples/wwwroot");
        app.UseFileServer(new FileServerOptions
        {
            RequestPath = RequestPath,
            FileProvider = files,
            EnableDefaultFiles = true,
            StaticFileOptions =
            {
                ContentTypeProvider = new FileExtensionContentTypeProvider(),
                // Revalidated on every load (a 304 costs a few bytes): a page never runs older than its server,
                // as /halley.js, which the pages import, is served.
                OnPrepareResponse = static context =>
                {
                    var response = context.Context.Response;
                    response.Headers.CacheControl = "no-cache";
                    response.Headers.XContentTypeOptions = "nosniff";
                    // The files are UTF-8; said, so no browser guesses (the provider names the type only).
                    if (response.ContentType is { } type && type.StartsWith("text/", StringComparison.Ordinal) && !type.Contains("charset", StringComparison.Ordinal))
                    {
                        response.ContentType = type + "; charset=utf-8";
                    }
                },
            },
        });
    }
}
