using System.Text.Json;
using Halley.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Halley.Sessions;

/// <summary>
/// Answers a client's publish on a <c>/service/**</c> channel with the host's handler
/// (<see cref="IHalleyBuilder.AddService"/>): request/response, never broadcast.
/// </summary>
internal sealed partial class ServiceCalls(IOptions<ServiceChannelOptions> services, ILogger<ServiceCalls> logger)
{
    private static readonly byte[] JsonNull = "null"u8.ToArray();

    private readonly ServiceChannelOptions _services = services.Value;

    /// <summary>Calls the handler of <paramref name="message"/>'s channel for <paramref name="session"/>; its result is the reply's data.</summary>
    public async ValueTask<BayeuxReply> CallAsync(BayeuxMessage message, BayeuxSession session, CancellationToken cancellationToken)
    {
        var channel = message.Channel!;
        if (!_services.Handlers.TryGetValue(channel, out var handler))
        {
            // As in CometD: a service message nobody handles is accepted and goes nowhere.
            return new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id };
        }
        try
        {
            var data = JsonSerializer.Deserialize<JsonElement>(message.DataJson.Span);
            var result = await handler(new BayeuxServiceCall(channel, session.Id, data), cancellationToken).ConfigureAwait(false);
            var json = result is null ? JsonNull : JsonSerializer.SerializeToUtf8Bytes(result, result.GetType());
            return new BayeuxReply(channel, message) { Successful = true, ClientId = session.Id, DataJson = json };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ServiceFailed(logger, channel, ex);
            return BayeuxReply.Failure(message, BayeuxErrors.ServiceFailed(channel));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Error, "Service channel {Channel} failed", EventName = "ServiceFailed")]
        public static partial void ServiceFailed(ILogger logger, string channel, Exception exception);
    }
}
