using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
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

    [GlobalSetup]
    public void Setup()
    {
        // A successful connect reply as BayeuxProcessor builds it, echoing the request's id.
        BayeuxCodec.TryParseBatch(Encoding.UTF8.GetBytes($$"""{"id":"7","channel":"/meta/connect","clientId":"{{ClientId}}","connectionType":"long-polling"}"""), out var connect);
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
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark]
    public int ParsePublishBatch()
    {
        BayeuxCodec.TryParseBatch(PublishBatch, out var messages);
        return messages.Count;
    }

    [Benchmark]
    public int ParseTenMessageBatch()
    {
        BayeuxCodec.TryParseBatch(TenMessageBatch, out var messages);
        return messages.Count;
    }

    [Benchmark]
    public int WriteConnectReplyAndTenEvents()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        BayeuxCodec.WriteBatch(_writer, _replies, _events);
        return _buffer.WrittenCount;
    }
}
