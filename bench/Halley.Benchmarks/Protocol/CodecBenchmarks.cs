using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Halley.Benchmarks.Infrastructure;
using Halley.Engine;
using Halley.Protocol;

namespace Halley.Benchmarks.Protocol;

/// <summary>
/// The Bayeux codec on the request and reply paths of every transport: parsing what a CometD client posts, and
/// writing what a held <c>/meta/connect</c> answers with.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private const string ClientId = "3f2a9c1e7b4d4e0a9f6c2b8d1e5a7c3b";

    // What the CometD JavaScript client sends for cometd.publish('/chat/demo', {...}): one message in an array.
    private static readonly byte[] PublishBatch = Encoding.UTF8.GetBytes(
        $$"""[{"id":"42","channel":"/chat/demo","data":{"user":"ann","chat":"hello, everyone","room":"demo"},"clientId":"{{ClientId}}"}]""");

    // cometd.batch(() => { ten publishes }): one request carrying ten messages to different rooms.
    private static readonly byte[] TenMessageBatch = Encoding.UTF8.GetBytes(
        "[" + string.Join(",", Enumerable.Range(0, 10).Select(i =>
            $$"""{"id":"{{100 + i}}","channel":"/chat/room{{i}}","data":{"user":"ann","chat":"message number {{i}}","seq":{{i}}},"clientId":"{{ClientId}}"}""")) + "]");

    private List<BayeuxReply> _replies = null!;
    private ReadOnlyMemory<byte>[] _events = null!;
    private ArrayBufferWriter<byte> _buffer = null!;
    private Utf8JsonWriter _writer = null!;
    private int _expectedWritten;

    // What the last invocation of each method did, and how many ran since the setup: one store per operation
    // (no allocation), read in the global cleanup, outside the measurement.
    private Outcome _publishBatch;
    private Outcome _tenMessageBatch;
    private Outcome _write;

    [GlobalSetup]
    public void Setup()
    {
        // A successful connect reply as BayeuxProcessor builds it, echoing the request's id.
        var error = BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes($$"""{"id":"7","channel":"/meta/connect","clientId":"{{ClientId}}","connectionType":"long-polling"}"""), out var connect);
        if (error != BatchParseError.None || connect.Count != 1)
        {
            throw new InvalidOperationException($"The connect request did not parse: {error}.");
        }
        _replies =
        [
            new BayeuxReply("/meta/connect", connect[0])
            {
                ClientId = ClientId,
                Successful = true,
                Advice = new Advice { Reconnect = ReconnectAdvice.Retry, Interval = 0, Timeout = 30_000 },
            },
        ];
        // Ten events of about 100 bytes each, encoded the way the engine encodes them (once, at publish).
        _events = [.. Enumerable.Range(0, 10).Select(i => (ReadOnlyMemory<byte>)BayeuxCodec.EncodeEvent(
            "/chat/demo", Encoding.UTF8.GetBytes($$"""{"user":"ann","chat":"message number {{i}}","seq":{{i}}}"""), Encoding.UTF8.GetBytes($"\"{i}\"")))];
        // The buffer and writer are reused, as a pooled response buffer would be: the benchmark measures the codec, not buffer growth.
        _buffer = new ArrayBufferWriter<byte>(4096);
        _writer = new Utf8JsonWriter(_buffer);
        _expectedWritten = WriteConnectReplyAndTenEvents();
        VerifyWritten(nameof(WriteConnectReplyAndTenEvents));
        _write = default;
    }

    /// <summary>
    /// Checks, outside the measurement, that each method that ran did its work: the parses succeeded with one and
    /// ten messages, the write produced the connect reply and the ten events (the buffer holds the last write).
    /// </summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        try
        {
            Check(nameof(ParsePublishBatch), _publishBatch, 1);
            Check(nameof(ParseTenMessageBatch), _tenMessageBatch, 10);
            if (_write.Invocations > 0)
            {
                var key = Verification.Key(nameof(CodecBenchmarks), nameof(WriteConnectReplyAndTenEvents));
                Verification.Require(key, _write.Count == _expectedWritten, $"the last write was {_write.Count} bytes, not {_expectedWritten}");
                VerifyWritten(nameof(WriteConnectReplyAndTenEvents));
                Verification.Passed(key, $"{_write.Invocations} writes of the reply and 10 events ({_expectedWritten} bytes)");
            }
        }
        finally
        {
            _writer.Dispose();
        }
    }

    [Benchmark]
    public int ParsePublishBatch()
    {
        var error = BayeuxCodec.TryParseBatch(PublishBatch, out var messages);
        _publishBatch = new Outcome(error, messages.Count, _publishBatch.Invocations + 1);
        return messages.Count;
    }

    [Benchmark]
    public int ParseTenMessageBatch()
    {
        var error = BayeuxCodec.TryParseBatch(TenMessageBatch, out var messages);
        _tenMessageBatch = new Outcome(error, messages.Count, _tenMessageBatch.Invocations + 1);
        return messages.Count;
    }

    [Benchmark]
    public int WriteConnectReplyAndTenEvents()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        BayeuxCodec.WriteBatch(_writer, _replies, _events);
        _write = new Outcome(BatchParseError.None, _buffer.WrittenCount, _write.Invocations + 1);
        return _buffer.WrittenCount;
    }

    private static void Check(string method, Outcome outcome, int expected)
    {
        if (outcome.Invocations == 0)
        {
            return; // not this case's method: each case runs on its own instance
        }
        var key = Verification.Key(nameof(CodecBenchmarks), method);
        Verification.Require(key, outcome.Error == BatchParseError.None && outcome.Count == expected,
            $"TryParseBatch returned {outcome.Error} with {outcome.Count} messages, not None with {expected}");
        Verification.Passed(key, $"{outcome.Invocations} parses, each of {expected} message(s)");
    }

    /// <summary>The buffer must hold a JSON array of the successful connect reply then the ten events, in order.</summary>
    private void VerifyWritten(string method)
    {
        var key = Verification.Key(nameof(CodecBenchmarks), method);
        string[] channels;
        bool successful;
        try
        {
            using var written = JsonDocument.Parse(_buffer.WrittenMemory);
            var batch = written.RootElement.EnumerateArray().ToList();
            channels = [.. batch.Select(m => m.GetProperty("channel").GetString() ?? "")];
            successful = batch.Count > 0 && batch[0].TryGetProperty("successful", out var s) && s.ValueKind == JsonValueKind.True;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw Verification.Failed(key, $"the written batch is not a JSON array of messages: {e.Message}");
        }
        Verification.Require(key, successful && channels.SequenceEqual(["/meta/connect", .. Enumerable.Repeat("/chat/demo", 10)]),
            $"the written batch holds [{string.Join(", ", channels)}] (successful: {successful}), not the connect reply and ten /chat/demo events");
    }

    private readonly record struct Outcome(BatchParseError Error, int Count, long Invocations);
}
