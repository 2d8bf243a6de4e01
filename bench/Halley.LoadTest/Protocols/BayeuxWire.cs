using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Halley.LoadTest.Protocols;

/// <summary>What a Bayeux message's <c>channel</c> is, as far as the load generator cares.</summary>
internal enum BayeuxChannelKind
{
    None,
    Handshake,
    Connect,
    Subscribe,
    OtherMeta,
    Broadcast,
}

/// <summary>
/// One message of a frame, read without allocating except for the rare fields only replies carry
/// (<c>clientId</c>, <c>error</c>, <c>advice.reconnect</c>). <see cref="DataStart"/> and
/// <see cref="DataLength"/> locate the raw <c>data</c> JSON inside the frame.
/// </summary>
internal struct BayeuxMessage
{
    public BayeuxChannelKind Kind;
    public bool? Successful;
    public long Id;
    public int DataStart;
    public int DataLength;
    public string? ClientId;
    public string? Error;
    public string? Reconnect;

    /// <summary>A broadcast event: a non-meta channel with data and no <c>successful</c> (that would be a publish reply).</summary>
    public readonly bool IsEvent => Kind == BayeuxChannelKind.Broadcast && DataLength > 0 && Successful is null;
}

/// <summary>Reads the messages of one Bayeux frame (a JSON array of messages, or one message).</summary>
internal ref struct BayeuxFrameReader
{
    private Utf8JsonReader _reader;
    private readonly bool _array;
    private bool _done;

    public BayeuxFrameReader(ReadOnlySpan<byte> frame)
    {
        _reader = new Utf8JsonReader(frame, isFinalBlock: true, state: default);
        if (!_reader.Read())
        {
            _done = true;
            return;
        }
        _array = _reader.TokenType == JsonTokenType.StartArray;
        if (!_array && _reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A Bayeux frame is a JSON array or object.");
        }
    }

    public bool TryRead(out BayeuxMessage message)
    {
        message = default;
        message.Id = -1;
        if (_done)
        {
            return false;
        }
        if (_array)
        {
            if (!_reader.Read() || _reader.TokenType == JsonTokenType.EndArray)
            {
                _done = true;
                return false;
            }
            if (_reader.TokenType != JsonTokenType.StartObject)
            {
                _reader.Skip();
                return TryRead(out message);
            }
        }
        else
        {
            _done = true; // a single object: the reader stands on its StartObject
        }
        ReadObject(ref message);
        return true;
    }

    private void ReadObject(ref BayeuxMessage message)
    {
        while (_reader.Read() && _reader.TokenType == JsonTokenType.PropertyName)
        {
            if (_reader.ValueTextEquals("channel"u8))
            {
                _reader.Read();
                message.Kind = Classify(ref _reader);
            }
            else if (_reader.ValueTextEquals("data"u8))
            {
                _reader.Read();
                var start = (int)_reader.TokenStartIndex;
                _reader.Skip();
                message.DataStart = start;
                message.DataLength = (int)_reader.BytesConsumed - start;
            }
            else if (_reader.ValueTextEquals("successful"u8))
            {
                _reader.Read();
                message.Successful = _reader.TokenType == JsonTokenType.True;
            }
            else if (_reader.ValueTextEquals("id"u8))
            {
                _reader.Read();
                if (_reader.TokenType == JsonTokenType.String)
                {
                    if (!_reader.ValueIsEscaped && Utf8Parser.TryParse(_reader.ValueSpan, out long id, out var consumed)
                        && consumed == _reader.ValueSpan.Length)
                    {
                        message.Id = id;
                    }
                }
                else if (_reader.TokenType == JsonTokenType.Number && _reader.TryGetInt64(out var number))
                {
                    message.Id = number;
                }
            }
            else if (_reader.ValueTextEquals("clientId"u8))
            {
                _reader.Read();
                message.ClientId = _reader.TokenType == JsonTokenType.String ? _reader.GetString() : null;
            }
            else if (_reader.ValueTextEquals("error"u8))
            {
                _reader.Read();
                message.Error = _reader.TokenType == JsonTokenType.String ? _reader.GetString() : null;
            }
            else if (_reader.ValueTextEquals("advice"u8))
            {
                _reader.Read();
                if (_reader.TokenType != JsonTokenType.StartObject)
                {
                    _reader.Skip();
                    continue;
                }
                while (_reader.Read() && _reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (_reader.ValueTextEquals("reconnect"u8))
                    {
                        _reader.Read();
                        message.Reconnect = _reader.TokenType == JsonTokenType.String ? _reader.GetString() : null;
                    }
                    else
                    {
                        _reader.Read();
                        _reader.Skip();
                    }
                }
            }
            else
            {
                _reader.Read();
                _reader.Skip();
            }
        }
    }

    private static BayeuxChannelKind Classify(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return BayeuxChannelKind.None;
        }
        if (reader.ValueTextEquals("/meta/connect"u8))
        {
            return BayeuxChannelKind.Connect;
        }
        if (reader.ValueTextEquals("/meta/subscribe"u8))
        {
            return BayeuxChannelKind.Subscribe;
        }
        if (reader.ValueTextEquals("/meta/handshake"u8))
        {
            return BayeuxChannelKind.Handshake;
        }
        return reader.ValueSpan.StartsWith("/meta/"u8) ? BayeuxChannelKind.OtherMeta : BayeuxChannelKind.Broadcast;
    }
}

/// <summary>Builds the Bayeux messages the load generator sends.</summary>
internal static class BayeuxWire
{
    public static byte[] Handshake(string connectionType) => Build(w =>
    {
        w.WriteString("channel"u8, "/meta/handshake"u8);
        w.WriteString("version"u8, "1.0"u8);
        w.WriteString("minimumVersion"u8, "1.0"u8);
        w.WriteStartArray("supportedConnectionTypes"u8);
        w.WriteStringValue(connectionType);
        w.WriteEndArray();
        w.WriteString("id"u8, "1"u8);
    });

    /// <summary>A <c>/meta/connect</c>; <paramref name="immediate"/> sends <c>advice.timeout: 0</c>, as CometD does first.</summary>
    public static byte[] Connect(string clientId, string connectionType, bool immediate, long id) => Build(w =>
    {
        w.WriteString("channel"u8, "/meta/connect"u8);
        w.WriteString("clientId"u8, clientId);
        w.WriteString("connectionType"u8, connectionType);
        if (immediate)
        {
            w.WriteStartObject("advice"u8);
            w.WriteNumber("timeout"u8, 0);
            w.WriteEndObject();
        }
        WriteId(w, id);
    });

    public static byte[] Subscribe(string clientId, string channel, long id) => Build(w =>
    {
        w.WriteString("channel"u8, "/meta/subscribe"u8);
        w.WriteString("clientId"u8, clientId);
        w.WriteString("subscription"u8, channel);
        WriteId(w, id);
    });

    public static byte[] Disconnect(string clientId) => Build(w =>
    {
        w.WriteString("channel"u8, "/meta/disconnect"u8);
        w.WriteString("clientId"u8, clientId);
    });

    /// <summary>Writes a one-message publish frame into <paramref name="buffer"/>.</summary>
    public static void WritePublish(ArrayBufferWriter<byte> buffer, string clientId, string channel, ReadOnlySpan<byte> data, long id)
    {
        using var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteString("channel"u8, channel);
        w.WriteString("clientId"u8, clientId);
        w.WritePropertyName("data"u8);
        w.WriteRawValue(data, skipInputValidation: true);
        WriteId(w, id);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>A short description of a failed reply, for error reports.</summary>
    public static string Describe(in BayeuxMessage message, string what) =>
        $"{what} failed: {message.Error ?? "no error given"} (reconnect: {message.Reconnect ?? "-"})";

    private static void WriteId(Utf8JsonWriter w, long id)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(id, digits, out var written);
        w.WriteString("id"u8, digits[..written]);
    }

    private static byte[] Build(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
