using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Halley.Http;

/// <summary>Reads a Bayeux batch out of an HTTP request body: raw JSON, or a form field <c>message=</c>.</summary>
internal static class HttpBatchReader
{
    /// <summary>Outcome of reading a body.</summary>
    public enum Status
    {
        Ok,
        TooLarge,
        MissingMessageField,
    }

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes. Some clients (Faye's cross-origin transport among them) send
    /// <c>message=…</c> form encoding with a <c>text/plain</c> content type, and curl sends JSON labelled as a
    /// form, so the body's shape decides, not the header: JSON starts with <c>[</c> or <c>{</c>.
    /// </summary>
    public static async ValueTask<(Status Status, ReadOnlyMemory<byte> Json)> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (Status.TooLarge, default);
        }
        var body = await ReadBoundedAsync(request.BodyReader, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (Status.TooLarge, default);
        }
        var start = body.AsSpan().TrimStart(" \t\r\n"u8);
        if (start.IsEmpty || start[0] is (byte)'[' or (byte)'{')
        {
            return (Status.Ok, body);
        }
        var fields = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        return fields.TryGetValue("message", out var message) && message.Count > 0
            ? (Status.Ok, Encoding.UTF8.GetBytes(message[0]!))
            : (Status.MissingMessageField, default);
    }

    private static async ValueTask<byte[]?> ReadBoundedAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            // Examine everything, consume nothing: the pipe keeps buffering until the body is complete.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
