using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Halley.Security.Auth;

/// <summary>
/// The signing keys published at <c>Halley:Auth:Jwt:JwksUrl</c>: fetched when first needed, again after
/// <see cref="JwtOptions.JwksRefreshInterval"/>, and early when a token names a key the set lacks (the provider
/// rotated its keys), but never twice within <see cref="JwtOptions.JwksMinRefreshInterval"/> for that reason. A failed
/// fetch keeps the keys already known.
/// </summary>
internal sealed partial class JwksKeys(Uri url, JwtOptions options, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private long _fetchedAt;
    private bool _fetched;

    /// <summary>The current keys, fetching them first when there are none yet or they are due for a refresh.</summary>
    public async ValueTask<IReadOnlyList<SecurityKey>> GetAsync(CancellationToken cancellationToken)
    {
        if (!_fetched || time.GetElapsedTime(Volatile.Read(ref _fetchedAt)) >= options.JwksRefreshInterval)
        {
            await FetchAsync(options.JwksRefreshInterval, cancellationToken).ConfigureAwait(false);
        }
        return Volatile.Read(ref _keys);
    }

    /// <summary>Fetches the set again because a token's key was not in it; false when one was fetched too recently.</summary>
    public ValueTask<bool> RefreshForUnknownKeyAsync(CancellationToken cancellationToken) =>
        FetchAsync(options.JwksMinRefreshInterval, cancellationToken);

    /// <summary>Fetches unless the last fetch is younger than <paramref name="minAge"/> (checked again under the gate).</summary>
    private async ValueTask<bool> FetchAsync(TimeSpan minAge, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller fetched while this one waited, or a fetch is not allowed yet.
            if (_fetched && time.GetElapsedTime(_fetchedAt) < minAge)
            {
                return false;
            }
            _fetchedAt = time.GetTimestamp();
            _fetched = true;
            try
            {
                var json = await _http.GetStringAsync(url, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _keys, [.. new JsonWebKeySet(json).GetSigningKeys()]);
                return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException)
            {
                Log.FetchFailed(logger, url, e);
                return false;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not fetch the JSON Web Key Set at {Url}; the keys already known stay in use.", EventName = "JwksFetchFailed")]
        public static partial void FetchFailed(ILogger logger, Uri url, Exception exception);
    }
}
