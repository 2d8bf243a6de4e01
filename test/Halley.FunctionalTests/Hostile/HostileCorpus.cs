using System.Text;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests.Hostile;

/// <summary>
/// The hostile-input corpus: a table of cases built from data (payload lists below), each with the answers it may
/// get. WebSocket and raw-socket cases run against both accept paths (<see cref="OnBothPaths"/>); the others against
/// the default one. Families: json (malformed), depth, types, utf8, channel (control characters and path tricks),
/// numbers, dup (duplicate keys), size, frames (WebSocket framing), upgrade, headers (floods and bad heads), slow
/// (slowloris), hijack (another session's client id or token), query (/sse, /stream, JSONP, the API).
/// </summary>
public static class HostileCorpus
{
    private const Answer Refused = Answer.Http4xx | Answer.BayeuxError;
    private const Answer RefusedOrClosed = Answer.Http4xx | Answer.BayeuxError | Answer.Closed;

    // Built on first use: the data tables below are static fields initialized after this one in declaration order.
    private static readonly Lazy<Dictionary<string, HostileCase>> All = new(() => Build().ToDictionary(c => c.Name));

    /// <summary>Every case by name.</summary>
    public static IReadOnlyDictionary<string, HostileCase> Cases => All.Value;

    /// <summary>Cases that go below Bayeux (WebSocket frames, upgrade and HTTP heads, slow senders): run on both accept paths.</summary>
    public static bool OnBothPaths(string name) => name.Split('/')[0] is "ws" or "frames" or "upgrade" or "headers" or "slow";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    // ---- data -----------------------------------------------------------------------------------------------------

    private static readonly string[] MalformedJson =
    [
        "", " ", "[", "]", "{", "}", "[{]", "[{}", "{\"channel\":}", "[{\"channel\":\"/a\",}]", "[{'channel':'/a'}]",
        "[{channel:\"/a\"}]", "[1,]", "[,1]", "nul", "tru", "[NaN]", "[Infinity]", "[-]", "[01]", "[1.]", "[.5]", "[1e]",
        "[\"\\x\"]", "[\"\\u12\"]", "[\"unterminated]", "[/*c*/{}]", "[{}]//", "[{}] [{}]", "\uFEFF[{}]", "[\"\t\"]",
        "[\"a\nb\"]", "42", "\"text\"", "true", "null", "[{\"channel\":\"/a\"}]]", "[{\"channel\" \"/a\"}]", "[{\"a\":1 \"b\":2}]",
        "[{\"channel\":\"/a\"}{\"channel\":\"/b\"}]", "\u0000", "[\u0000]", "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\"", "][",
    ];

    private static readonly (string Name, string Json)[] Deep =
    [
        ("arrays-65", "[" + new string('[', 64) + new string(']', 64) + "]"),
        ("arrays-100", "[" + new string('[', 99) + new string(']', 99) + "]"),
        ("arrays-1000", "[" + new string('[', 999) + new string(']', 999) + "]"),
        ("arrays-unclosed-5000", new string('[', 5000)),
        ("objects-in-data-100", "[{\"channel\":\"/a\",\"data\":" + string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100) + "}]"),
        ("objects-in-ext-100", "[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\",\"ext\":" + string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100) + "}]"),
        ("arrays-in-advice-100", "[{\"channel\":\"/meta/connect\",\"advice\":{\"x\":" + new string('[', 100) + new string(']', 100) + "}}]"),
        ("mixed-unclosed-2000", string.Concat(Enumerable.Repeat("[{\"a\":", 2000))),
    ];

    /// <summary>Field, wrong JSON value: each refused with 400::invalid_field_… (or version/connection-type checks).</summary>
    private static readonly (string Field, string Value)[] WrongTypes =
    [
        ("channel", "1"), ("channel", "true"), ("channel", "{}"), ("channel", "[]"), ("channel", "1.5"),
        ("id", "true"), ("id", "{}"), ("id", "[]"), ("id", "null"),
        ("clientId", "1"), ("clientId", "{}"), ("clientId", "[]"), ("clientId", "true"),
        ("subscription", "1"), ("subscription", "{}"), ("subscription", "[1]"), ("subscription", "[null]"), ("subscription", "true"),
        ("ext", "1"), ("ext", "\"s\""), ("ext", "[]"), ("ext", "true"),
        ("advice", "1"), ("advice", "\"s\""), ("advice", "[]"), ("advice", "true"),
        ("advice.timeout", "\"s\""), ("advice.timeout", "-1"), ("advice.timeout", "true"), ("advice.timeout", "{}"),
        ("connectionType", "1"), ("connectionType", "{}"), ("connectionType", "[]"),
        ("supportedConnectionTypes", "\"websocket\""), ("supportedConnectionTypes", "1"), ("supportedConnectionTypes", "[1]"), ("supportedConnectionTypes", "{}"),
        ("version", "1"), ("version", "{}"), ("version", "[]"), ("version", "true"),
    ];

    private static readonly (string Name, byte[] Bytes)[] InvalidUtf8 =
    [
        ("c3-28", [0xC3, 0x28]), ("a0-a1", [0xA0, 0xA1]), ("e2-28-a1", [0xE2, 0x28, 0xA1]), ("f0-28-8c-bc", [0xF0, 0x28, 0x8C, 0xBC]),
        ("ff", [0xFF]), ("overlong-slash", [0xC0, 0xAF]), ("surrogate", [0xED, 0xA0, 0x80]), ("above-10ffff", [0xF4, 0x90, 0x80, 0x80]),
    ];

    /// <summary>Channel names no client may subscribe or publish to.</summary>
    private static readonly (string Name, string Channel)[] BadChannels =
    [
        ("empty", ""), ("root", "/"), ("double-slash", "/a//b"), ("dot-dot", "/a/../b"), ("dot", "/a/./b"), ("only-dots", "/.."),
        ("trailing-slash", "/a/b/"), ("relative", "a/b"), ("backslashes", "\\a\\b"), ("nul", "/a\u0000b"), ("newline", "/a\nb"),
        ("carriage-return", "/a\rb"), ("tab", "/a\tb"), ("space", "/a b"), ("percent", "/a%2Fb"), ("meta-dot-dot", "/meta/../service"),
        ("inner-wildcard", "/a/**/b"), ("leading-wildcard", "/**/a"), ("rtl-override", "/\u202Ea"), ("escape-char", "/a\u001Bb"),
        ("long-segment", "/" + new string('a', 10_000)), ("many-segments", string.Concat(Enumerable.Repeat("/a", 2000))),
        ("question", "/a?b=c"), ("hash", "/a#b"), ("quote", "/a\"b"), ("angle", "/<script>"), ("unicode-slash", "/a\u2215b"),
    ];

    private static readonly string[] BayeuxFields =
        ["channel", "id", "clientId", "data", "ext", "advice", "subscription", "connectionType", "supportedConnectionTypes", "version"];

    // ---- building -------------------------------------------------------------------------------------------------

    private static IEnumerable<HostileCase> Build()
    {
        foreach (var (json, i) in MalformedJson.Select((j, i) => (j, i)))
        {
            yield return new($"http/json/{i:00}", Refused, t => t.PostAsync(Utf8(json)));
            yield return new($"ws/json/{i:00}", Answer.BayeuxError, t => t.FramesAsync(HostileTarget.Text(json)));
        }
        foreach (var (name, json) in Deep)
        {
            // A deep value is refused as too deep; one long enough to pass the size limit is refused as too large.
            yield return new($"http/depth/{name}", Refused, t => t.PostAsync(Utf8(json)));
            yield return new($"ws/depth/{name}", Answer.BayeuxError | Answer.Closed, t => t.FramesAsync(HostileTarget.Text(json)));
        }
        foreach (var (field, value) in WrongTypes)
        {
            var json = WrongTypeMessage(field, value);
            yield return new($"http/types/{field}={value}", Answer.BayeuxError, t => t.PostAsync(Utf8(json)));
        }
        foreach (var (field, value) in WrongTypes.Where((_, i) => i % 4 == 0))
        {
            var json = WrongTypeMessage(field, value);
            yield return new($"ws/types/{field}={value}", Answer.BayeuxError, t => t.FramesAsync(HostileTarget.Text(json)));
        }
        foreach (var (name, bytes) in InvalidUtf8)
        {
            byte[] InString(string before, string after) => [.. Utf8(before), .. bytes, .. Utf8(after)];
            var inChannel = InString("[{\"channel\":\"/a", "\",\"data\":1}]");
            var inExt = InString("[{\"channel\":\"/meta/handshake\",\"version\":\"1.0\",\"ext\":{\"x\":\"", "\"}}]");
            yield return new($"http/utf8/channel-{name}", Refused, t => t.PostAsync(inChannel));
            yield return new($"http/utf8/ext-{name}", Refused, t => t.PostAsync(inExt));
            yield return new($"http/utf8/data-{name}", Refused, t => PublishRawAsync(t, InString("\"", "\"")));
            yield return new($"ws/utf8/channel-{name}", Answer.BayeuxError | Answer.Closed, t => t.FramesAsync(HostileTarget.Text(inChannel)));
        }
        foreach (var (name, channel) in BadChannels)
        {
            yield return new($"http/channel/subscribe-{name}", Answer.BayeuxError, t => InSessionAsync(t, c => c.Subscribe(channel)));
            yield return new($"http/channel/publish-{name}", Answer.BayeuxError, t => InSessionAsync(t, c => c.Publish(channel, 1)));
        }
        foreach (var (name, channel) in BadChannels.Where(c => c.Channel.Length < 200))
        {
            yield return new($"query/sse-channel-{name}", Answer.Http4xx, t => t.GetAsync("/sse?channel=" + Uri.EscapeDataString(channel)));
        }
        foreach (var field in BayeuxFields)
        {
            var json = $$"""[{"channel":"/meta/handshake","version":"1.0","{{field}}":{{FieldValue(field)}},"{{field}}":{{FieldValue(field)}}}]""";
            yield return new($"http/dup/{field}", Answer.BayeuxError, t => t.PostAsync(Utf8(json)));
        }
        IEnumerable<HostileCase>[] families = [Numbers(), Duplicates(), Sizes(), Frames(), Upgrades(), Headers(), Slow(), HijackCases.All(), Queries()];
        foreach (var c in families.SelectMany(f => f))
        {
            yield return c;
        }
    }

    private static string FieldValue(string field) => field switch
    {
        "channel" => "\"/meta/handshake\"",
        "supportedConnectionTypes" => "[\"long-polling\"]",
        "ext" or "advice" => "{}",
        "data" => "1",
        "version" => "\"1.0\"",
        _ => "\"x\"",
    };

    private static string WrongTypeMessage(string field, string value) => field switch
    {
        "advice.timeout" => $$$"""[{"channel":"/meta/connect","clientId":"x","advice":{"timeout":{{{value}}}}}]""",
        "version" => $$"""[{"channel":"/meta/handshake","supportedConnectionTypes":["long-polling"],"version":{{value}}}]""",
        "supportedConnectionTypes" => $$"""[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":{{value}}}]""",
        "channel" => $$"""[{"channel":{{value}},"id":"1"}]""",
        "subscription" => $$"""[{"channel":"/meta/subscribe","clientId":"x","subscription":{{value}}}]""",
        _ => $$"""[{"channel":"/meta/subscribe","clientId":"x","subscription":"/a","{{field}}":{{value}}}]""",
    };

    /// <summary>Handshakes over long-polling, then sends the message <paramref name="make"/> builds in that session.</summary>
    private static async Task<Outcome> InSessionAsync(HostileTarget target, Func<BayeuxHttp, JsonObject> make)
    {
        using var client = new BayeuxHttp(target.Server);
        await client.HandshakeAsync();
        using var response = await client.PostRawAsync(new JsonArray(make(client)).ToJsonString());
        return await HostileTarget.ClassifyAsync(response);
    }

    /// <summary>Handshakes over long-polling, then publishes <paramref name="dataJson"/> (raw bytes) to /a in that session.</summary>
    private static async Task<Outcome> PublishRawAsync(HostileTarget target, byte[] dataJson)
    {
        using var client = new BayeuxHttp(target.Server);
        await client.HandshakeAsync();
        byte[] body = [.. Utf8($$"""[{"channel":"/a","clientId":"{{client.ClientId}}","data":"""), .. dataJson, .. Utf8("}]")];
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        using var response = await client.Http.PostAsync("/cometd", content);
        return await HostileTarget.ClassifyAsync(response);
    }

    private static IEnumerable<HostileCase> Numbers()
    {
        (string Name, string Json)[] numbers =
        [
            ("id-1e400", """[{"channel":"/meta/connect","clientId":"x","id":1e400}]"""),
            ("id-25-digits", """[{"channel":"/meta/connect","clientId":"x","id":9999999999999999999999999}]"""),
            ("id-negative-zero", """[{"channel":"/meta/connect","clientId":"x","id":-0}]"""),
            ("timeout-1e400", """[{"channel":"/meta/connect","clientId":"x","advice":{"timeout":1e400}}]"""),
            ("timeout-1e308", """[{"channel":"/meta/connect","clientId":"x","advice":{"timeout":1e308}}]"""),
            ("timeout-negative-huge", """[{"channel":"/meta/connect","clientId":"x","advice":{"timeout":-1e308}}]"""),
            ("data-1e99999", """[{"channel":"/a","clientId":"x","data":1e99999}]"""),
            ("data-2000-digits", "[{\"channel\":\"/a\",\"clientId\":\"x\",\"data\":" + new string('9', 2000) + "}]"),
            ("version-number-huge", """[{"channel":"/meta/handshake","version":1e400}]"""),
        ];
        foreach (var (name, json) in numbers)
        {
            yield return new($"http/numbers/{name}", Answer.BayeuxError, t => t.PostAsync(Utf8(json)));
        }
        yield return new("http/numbers/timeout-huge-in-session", Answer.BayeuxError, t => InSessionAsync(t, c => new JsonObject
        {
            ["channel"] = "/meta/connect",
            ["clientId"] = c.ClientId,
            ["connectionType"] = "long-polling",
            ["advice"] = new JsonObject { ["timeout"] = -5 },
        }));
    }

    private static IEnumerable<HostileCase> Duplicates()
    {
        (string Name, string Json)[] duplicates =
        [
            ("escaped-channel", """[{"channel":"/a","\u0063hannel":"/meta/handshake","version":"1.0"}]"""),
            ("ext-halley-token", """[{"channel":"/meta/connect","clientId":"x","ext":{"halley":{"token":"a","token":"b"}}}]"""),
            ("ext-top", """[{"channel":"/meta/handshake","version":"1.0","ext":{"ack":true,"ack":false}}]"""),
            ("advice-timeout", """[{"channel":"/meta/connect","clientId":"x","advice":{"timeout":0,"timeout":1}}]"""),
            ("unknown-field", """[{"channel":"/meta/handshake","version":"1.0","x":1,"x":2}]"""),
            ("deep-in-ext", """[{"channel":"/meta/handshake","version":"1.0","ext":{"a":{"b":{"c":1,"c":2}}}}]"""),
        ];
        foreach (var (name, json) in duplicates)
        {
            yield return new($"http/dup/{name}", Answer.BayeuxError, t => t.PostAsync(Utf8(json)));
            yield return new($"ws/dup/{name}", Answer.BayeuxError, t => t.FramesAsync(HostileTarget.Text(json)));
        }
        yield return new("query/api-publish-duplicate-channel", Answer.Http4xx,
            t => t.PostAsync(Utf8("""{"channel":"/a","channel":"/b","data":1}"""), path: "/api/publish"));
    }

    private static IEnumerable<HostileCase> Sizes()
    {
        var large = "[{\"channel\":\"/a\",\"data\":\"" + new string('x', 70_000) + "\"}]";
        yield return new("http/size/body-over-limit", Answer.Http4xx, t => t.PostAsync(Utf8(large)));
        yield return new("http/size/form-over-limit", Answer.Http4xx, t => t.PostAsync(Utf8("message=" + Uri.EscapeDataString(large)), "application/x-www-form-urlencoded"));
        yield return new("http/size/batch-of-1000", Answer.Http4xx, t => t.PostAsync(Utf8("[" + string.Join(",", Enumerable.Repeat("{}", 1000)) + "]")));
        yield return new("http/size/declared-length-over-limit", RefusedOrClosed,
            t => t.RawHttpAsync(Utf8(t.Head("POST", "/cometd") + "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n[]")));
        yield return new("http/size/jsonp-url-over-limit", Answer.Http4xx, t => t.GetAsync("/cometd?jsonp=cb&message=" + new string('a', 20_000)));
        yield return new("ws/size/message-over-limit", Answer.Closed, t => t.FramesAsync(HostileTarget.Text(large)));
        yield return new("ws/size/fragments-over-limit", Answer.Closed, t => t.FramesAsync(
        [
            .. Enumerable.Range(0, 80).Select(i => HostileTarget.Frame(i == 0 ? 0x1 : 0x0, Encoding.UTF8.GetBytes(new string('[', 1000)), fin: false)),
            HostileTarget.Frame(0x0, "]"u8, fin: true),
        ]));
        yield return new("ws/size/batch-of-1000", Answer.BayeuxError, t => t.FramesAsync(HostileTarget.Text("[" + string.Join(",", Enumerable.Repeat("{}", 1000)) + "]")));
        yield return new("ws/size/declared-2^40", Answer.Closed, t => t.FramesAsync(HostileTarget.Frame(0x1, "[]"u8, declaredLength: 1UL << 40)));
    }

    private static IEnumerable<HostileCase> Frames()
    {
        var handshakeWithoutVersion = Utf8("""[{"channel":"/meta/handshake","id":"1"}]""");
        (string Name, Answer Expected, Func<byte[][]> Frames)[] frames =
        [
            ("unmasked-text", Answer.Closed, () => [HostileTarget.Frame(0x1, handshakeWithoutVersion, masked: false)]),
            ("rsv1", Answer.Closed, () => [HostileTarget.Frame(0x1, handshakeWithoutVersion, rsv: 4)]),
            ("rsv2", Answer.Closed, () => [HostileTarget.Frame(0x1, handshakeWithoutVersion, rsv: 2)]),
            ("rsv3", Answer.Closed, () => [HostileTarget.Frame(0x1, handshakeWithoutVersion, rsv: 1)]),
            ("opcode-3", Answer.Closed, () => [HostileTarget.Frame(0x3, handshakeWithoutVersion)]),
            ("opcode-b", Answer.Closed, () => [HostileTarget.Frame(0xB, []) ]),
            ("binary", Answer.Closed, () => [HostileTarget.Frame(0x2, handshakeWithoutVersion)]),
            ("continuation-first", Answer.Closed, () => [HostileTarget.Frame(0x0, handshakeWithoutVersion)]),
            ("text-inside-text", Answer.Closed, () => [HostileTarget.Frame(0x1, "[{"u8, fin: false), HostileTarget.Frame(0x1, "}]"u8)]),
            ("fragmented-ping", Answer.Closed, () => [HostileTarget.Frame(0x9, "x"u8, fin: false)]),
            ("ping-over-125", Answer.Closed, () => [HostileTarget.Frame(0x9, new byte[126])]),
            ("close-one-byte", Answer.Closed, () => [HostileTarget.Frame(0x8, [0x03])]),
            ("close-code-999", Answer.Closed, () => [HostileTarget.Frame(0x8, [0x03, 0xE7])]),
            ("close-code-1005", Answer.Closed, () => [HostileTarget.Frame(0x8, [0x03, 0xED])]),
            ("close-code-5000", Answer.Closed, () => [HostileTarget.Frame(0x8, [0x13, 0x88])]),
            ("close-reason-invalid-utf8", Answer.Closed, () => [HostileTarget.Frame(0x8, [0x03, 0xE8, 0xC3, 0x28])]),
            ("text-invalid-utf8", Answer.Closed | Answer.BayeuxError, () => [HostileTarget.Frame(0x1, [.. "[\""u8, 0xC3, 0x28, .. "\"]"u8])]),
            ("length-msb-set", Answer.Closed, () => [HostileTarget.Frame(0x1, "[]"u8, declaredLength: 1UL << 63)]),
            ("length-16-bit-for-5", Answer.Closed | Answer.BayeuxError, () => [[0x81, 0xFE, 0x00, 0x05, 1, 2, 3, 4, .. Mask("[{}]x"u8, [1, 2, 3, 4])]]),
            ("fragmented-valid", Answer.BayeuxError, () =>
            [
                HostileTarget.Frame(0x1, handshakeWithoutVersion.AsSpan(0, 10), fin: false),
                HostileTarget.Frame(0x0, handshakeWithoutVersion.AsSpan(10, 10), fin: false),
                HostileTarget.Frame(0x0, handshakeWithoutVersion.AsSpan(20)),
            ]),
            ("ping-between-fragments", Answer.BayeuxError, () =>
            [
                HostileTarget.Frame(0x1, handshakeWithoutVersion.AsSpan(0, 10), fin: false),
                HostileTarget.Frame(0x9, "p"u8),
                HostileTarget.Frame(0x0, handshakeWithoutVersion.AsSpan(10)),
            ]),
            ("ping-flood-then-message", Answer.BayeuxError, () =>
                [.. Enumerable.Range(0, 500).Select(_ => HostileTarget.Frame(0x9, "ping"u8)), HostileTarget.Frame(0x1, handshakeWithoutVersion)]),
            ("unsolicited-pongs", Answer.BayeuxError, () =>
                [.. Enumerable.Range(0, 50).Select(_ => HostileTarget.Frame(0xA, "pong"u8)), HostileTarget.Frame(0x1, handshakeWithoutVersion)]),
            ("empty-text", Answer.BayeuxError, () => [HostileTarget.Frame(0x1, [])]),
        ];
        foreach (var (name, expected, make) in frames)
        {
            yield return new($"frames/{name}", expected, t => t.FramesAsync(make()));
        }
        yield return new("frames/truncated-then-eof", Answer.Closed, t => t.FramesAsync(halfClose: true, HostileTarget.Frame(0x1, handshakeWithoutVersion)[..8]));
        yield return new("frames/trickled-message", Answer.Closed, t => t.FramesAsync(
            [.. Enumerable.Range(0, 3).Select(i => HostileTarget.Frame(i == 0 ? 0x1 : 0x0, "["u8, fin: false))]));
    }

    private static byte[] Mask(ReadOnlySpan<byte> payload, byte[] key)
    {
        var masked = new byte[payload.Length];
        for (var i = 0; i < payload.Length; i++)
        {
            masked[i] = (byte)(payload[i] ^ key[i % 4]);
        }
        return masked;
    }

    private static IEnumerable<HostileCase> Upgrades()
    {
        (string Name, Func<HostileTarget, byte[]> Request)[] upgrades =
        [
            ("missing-key", t => Utf8(t.Head("GET", "/cometd") + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")),
            ("empty-key", t => t.Upgrade(key: "")),
            ("short-key", t => t.Upgrade(key: "c2hvcnQ=")),
            ("key-not-base64", t => t.Upgrade(key: "!!!!!!!!!!!!!!!!!!!!!!!!")),
            ("version-8", t => t.Upgrade(version: "8")),
            ("version-text", t => t.Upgrade(version: "abc")),
            ("missing-version", t => Utf8(t.Head("GET", "/cometd") + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")),
            ("post-upgrade", t => Utf8(t.Head("POST", "/cometd") + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n")),
            ("two-keys", t => t.Upgrade(extraHeaders: "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")),
            ("foreign-origin", t => t.Upgrade(extraHeaders: "Origin: http://evil.example\r\n")),
            ("null-origin", t => t.Upgrade(extraHeaders: "Origin: null\r\n")),
            ("upgrade-other-path", t => t.Upgrade(path: "/cometd-not")),
        ];
        foreach (var (name, request) in upgrades)
        {
            yield return new($"upgrade/{name}", Answer.Http4xx | Answer.Closed, t => t.RawHttpAsync(request(t)));
        }
    }

    private static IEnumerable<HostileCase> Headers()
    {
        // Every request here targets /cometd with nothing valid in it, so any answer but a refusal is a finding.
        (string Name, Func<HostileTarget, byte[]> Request)[] heads =
        [
            ("200-headers", t => Utf8(t.Head("POST", "/cometd") + string.Concat(Enumerable.Range(0, 200).Select(i => $"X-H{i}: {i}\r\n")) + "Content-Length: 0\r\n\r\n")),
            ("header-40k", t => Utf8(t.Head("POST", "/cometd") + "X-Big: " + new string('a', 40_000) + "\r\nContent-Length: 0\r\n\r\n")),
            ("header-2m-no-end", t => Utf8(t.Head("POST", "/cometd") + "X-Big: " + new string('a', 2 << 20))),
            ("request-line-20k", t => Utf8("GET /cometd?" + new string('a', 20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")),
            ("header-name-space", t => Utf8(t.Head("POST", "/cometd") + "Bad Header: x\r\nContent-Length: 0\r\n\r\n")),
            ("header-without-colon", t => Utf8(t.Head("POST", "/cometd") + "NoColon\r\nContent-Length: 0\r\n\r\n")),
            ("header-nul", t => Utf8(t.Head("POST", "/cometd") + "X-A: a\u0000b\r\nContent-Length: 0\r\n\r\n")),
            ("bare-lf", t => Utf8($"POST /cometd HTTP/1.1\nHost: {t.Server.BaseAddress.Authority}\nContent-Length: 0\n\n")),
            ("two-content-lengths", t => Utf8(t.Head("POST", "/cometd") + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n[]x")),
            ("length-and-chunked", t => Utf8(t.Head("POST", "/cometd") + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
            ("bad-chunk-size", t => Utf8(t.Head("POST", "/cometd") + "Transfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n")),
            ("negative-length", t => Utf8(t.Head("POST", "/cometd") + "Content-Length: -1\r\n\r\n")),
            ("method-with-slash", t => Utf8($"PO/ST /cometd HTTP/1.1\r\nHost: x\r\n\r\n")),
            ("no-host", t => Utf8("POST /cometd HTTP/1.1\r\nContent-Length: 0\r\n\r\n")),
            ("cookie-flood", t => Utf8(t.Head("POST", "/cometd") + "Cookie: " + string.Join("; ", Enumerable.Range(0, 500).Select(i => $"c{i}=v")) + "\r\nContent-Length: 0\r\n\r\n")),
            ("garbage", t => [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))]),
            ("tls-hello-on-http", t => [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, .. new byte[200]]),
            ("http2-preface-on-http1", t => Utf8("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + new string('\0', 64))),
        ];
        foreach (var (name, request) in heads)
        {
            yield return new($"headers/{name}", Answer.Http4xx | Answer.Closed, t => t.RawHttpAsync(request(t)));
        }
    }

    private static IEnumerable<HostileCase> Slow()
    {
        // The servers of the corpus wait 2 s for a request head (Kestrel's RequestHeadersTimeout) and want 100 B/s of a
        // body after a 2 s grace: a slow sender is cut within seconds, not held for minutes.
        var patience = TimeSpan.FromSeconds(20);
        var slowPace = TimeSpan.FromMilliseconds(700);
        yield return new("slow/head-trickle", Answer.Http4xx | Answer.Closed,
            t => t.RawHttpAsync(Utf8(t.Head("POST", "/cometd") + "X-Slow: " + new string('a', 200) + "\r\n\r\n"), slowPace, patience));
        yield return new("slow/upgrade-trickle", Answer.Http4xx | Answer.Closed, t => t.RawHttpAsync(t.Upgrade(), slowPace, patience));
        yield return new("slow/idle-connection", Answer.Http4xx | Answer.Closed, t => t.RawHttpAsync([], null, patience));
        yield return new("slow/partial-head-then-silence", Answer.Http4xx | Answer.Closed, t => t.RawHttpAsync(Utf8("POST /cometd HTTP/1.1\r\nHo"), null, patience));
        yield return new("slow/body-trickle", Answer.Http4xx | Answer.Closed,
            t => t.RawHttpAsync(Utf8(t.Head("POST", "/cometd") + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n[" + new string(' ', 4999)), TimeSpan.FromMilliseconds(200), patience));
    }

    private static IEnumerable<HostileCase> Queries()
    {
        (string Name, string Target, (string, string)[] Headers)[] queries =
        [
            ("sse-no-channel", "/sse", []),
            ("sse-17-channels", "/sse?" + string.Join("&", Enumerable.Range(0, 17).Select(i => $"channel=/c{i}")), []),
            ("sse-meta", "/sse?channel=/meta/connect", []),
            ("sse-service", "/sse?channel=/service/x", []),
            ("sse-pad-negative", "/sse?channel=/a&pad=-1", []),
            ("sse-pad-huge", "/sse?channel=/a&pad=99999999999", []),
            ("sse-pad-text", "/sse?channel=/a&pad=abc", []),
            ("sse-last-event-id-garbage", "/sse?channel=/a", [("Last-Event-ID", "not-a-position-\u0001")]),
            ("sse-last-event-id-query-garbage", "/sse?channel=/a&lastEventId=%00%01%02", []),
            ("stream-no-channel", "/stream", []),
            ("stream-bad-format", "/stream?channel=/a&format=exe", []),
            ("stream-wildcard-inside", "/stream?channel=/a/**/b", []),
            ("jsonp-script-callback", "/cometd?jsonp=alert(1)//&message=%5B%5D", []),
            ("jsonp-html-callback", "/cometd?jsonp=%3Cscript%3E&message=%5B%5D", []),
            ("jsonp-missing-callback", "/cometd?message=%5B%5D", []),
            ("jsonp-missing-message", "/cometd?jsonp=cb", []),
            ("jsonp-malformed-message", "/cometd?jsonp=cb&message=%5B%7B", []),
            ("eventsource-unknown-client", "/cometd/0123456789abcdef", [("Accept", "text/event-stream")]),
            ("eventsource-path-tricks", "/cometd/..%2F..%2Fetc%2Fpasswd", [("Accept", "text/event-stream")]),
            ("history-no-channel", "/api/history", []),
            ("history-bad-channel", "/api/history?channel=/a/../b", []),
        ];
        foreach (var (name, target, headers) in queries)
        {
            yield return new($"query/{name}", Refused, t => t.GetAsync(target, headers));
        }
        (string Name, string Body)[] api =
        [
            ("api-publish-malformed", "{\"channel\":"),
            ("api-publish-no-channel", "{\"data\":1}"),
            ("api-publish-wildcard", "{\"channel\":\"/a/*\",\"data\":1}"),
            ("api-publish-meta", "{\"channel\":\"/meta/connect\",\"data\":1}"),
            ("api-publish-array", "[{\"channel\":\"/a\",\"data\":1}]"),
        ];
        foreach (var (name, body) in api)
        {
            yield return new($"query/{name}", Answer.Http4xx, t => t.PostAsync(Utf8(body), path: "/api/publish"));
        }
        yield return new("query/put-cometd", Answer.Http4xx, async t =>
        {
            using var http = new HttpClient { BaseAddress = t.Server.BaseAddress };
            using var response = await http.PutAsync("/cometd", new StringContent("[]"));
            return await HostileTarget.ClassifyAsync(response);
        });
    }
}
