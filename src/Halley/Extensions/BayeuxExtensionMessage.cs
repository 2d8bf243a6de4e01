using System.Text.Json;
using System.Text.Json.Nodes;
using Halley.Channels;
using Halley.Protocol;
using Halley.Sessions;

namespace Halley.Extensions;

/// <summary>
/// A message as an <see cref="IBayeuxExtension"/> sees it: a client's message on the way in, or the server's reply
/// to one on the way out (<see cref="IsReply"/>). Only <see cref="Ext"/> may be changed. Valid only during the hook
/// it is passed to.
/// </summary>
public sealed class BayeuxExtensionMessage
{
    private readonly BayeuxMessage _request;
    private readonly BayeuxReply? _reply;
    private JsonObject? _ext;
    private bool _extRead;
    private bool _extReplaced;
    private JsonElement? _data;
    private BayeuxExtensionMessage? _requestView;

    /// <summary>A client's message, bound to <paramref name="session"/> (null for a handshake).</summary>
    internal BayeuxExtensionMessage(BayeuxMessage request, BayeuxSession? session, long receivedAt)
    {
        _request = request;
        Session = session;
        ReceivedAt = receivedAt;
    }

    /// <summary>The reply to <paramref name="request"/>, for <paramref name="session"/> when one was bound or created.</summary>
    internal BayeuxExtensionMessage(BayeuxReply reply, BayeuxMessage request, BayeuxSession? session, long receivedAt)
        : this(request, session, receivedAt)
    {
        _reply = reply;
    }

    /// <summary>The channel: the one the client sent on, or, for a reply, the one it answers on.</summary>
    public string Channel => _reply?.Channel ?? _request.Channel ?? "";

    /// <summary>Whether <see cref="Channel"/> is a <c>/meta/*</c> channel.</summary>
    public bool IsMeta => ChannelName.KindOf(Channel) == ChannelKind.Meta;

    /// <summary>Whether this is the server's reply to a client message (else the client's message itself).</summary>
    public bool IsReply => _reply is not null;

    /// <summary>
    /// The client id of the session the message acts for, once the server trusts it: on a client's message, the
    /// session it was bound to (null for a handshake, whose session does not exist yet); on a reply, the session
    /// the request was bound to or, for a handshake, created (null when there is none, e.g. on a refusal for an
    /// unknown session).
    /// </summary>
    public string? ClientId => Session?.Id;

    /// <summary>
    /// The message's <c>data</c>, read-only; null when it has none. For a reply, the result of a service channel call
    /// (the other replies carry no <c>data</c>).
    /// </summary>
    public JsonElement? Data
    {
        get
        {
            var json = _reply is not null ? _reply.DataJson : _request.DataJson;
            if (_data is null && !json.IsEmpty)
            {
                // Parsed only when asked: most extensions never look at data, and it is kept as raw JSON otherwise.
                _data = JsonSerializer.Deserialize<JsonElement>(json.Span);
            }
            return _data;
        }
    }

    /// <summary>
    /// The message's <c>ext</c> object, which a hook may read, change or replace; null when it has none. To add to a
    /// message that may have none: <c>(message.Ext ??= []).Add(…)</c>. An <c>ext</c> that a client sent as another
    /// JSON value than an object reads as null here (and replacing it replaces that value).
    /// </summary>
    public JsonObject? Ext
    {
        get
        {
            if (_reply is not null)
            {
                return _reply.Ext;
            }
            if (!_extRead && !_extReplaced)
            {
                _extRead = true;
                _ext = _request.Ext is { ValueKind: JsonValueKind.Object } ext ? JsonObject.Create(ext) : null;
            }
            return _ext;
        }
        set
        {
            if (_reply is not null)
            {
                _reply.Ext = value;
                return;
            }
            _extReplaced = true;
            _ext = value;
        }
    }

    /// <summary>For a reply, whether it reports success; false on a client's message.</summary>
    public bool Successful => _reply?.Successful ?? false;

    /// <summary>For a failed reply, its Bayeux error (e.g. <c>402::session_unknown</c>); else null.</summary>
    public string? Error => _reply?.Error;

    /// <summary>For a reply, the client's message it answers, to read (changing it has no effect any more); null on a client's message.</summary>
    public BayeuxExtensionMessage? Request =>
        _reply is null ? null : _requestView ??= new BayeuxExtensionMessage(_request, Session, ReceivedAt);

    /// <summary>The client's message: the one coming in, or the one a reply answers.</summary>
    internal BayeuxMessage ClientMessage => _request;

    /// <summary>The server's reply, when this is one.</summary>
    internal BayeuxReply? Reply => _reply;

    /// <summary>The session the message acts for (see <see cref="ClientId"/>).</summary>
    internal BayeuxSession? Session { get; }

    /// <summary>When the client's message was received (a <see cref="TimeProvider"/> timestamp).</summary>
    internal long ReceivedAt { get; }

    /// <summary>On a <c>/meta/connect</c> reply of a session using the ack extension, the number of the batch it carries.</summary>
    internal long? AckBatch { get; init; }

    /// <summary>Applies what the incoming hooks did to <c>ext</c> to the client's message, which the server then acts on.</summary>
    internal void ApplyToRequest()
    {
        // Written back only when a hook replaced ext, or read an object it may have changed: the server reads ext
        // as an element (ext.halley.token, ext.halley.position), and most messages never need the round trip.
        if (_reply is null && (_extReplaced || (_extRead && _ext is not null)))
        {
            _request.Ext = _ext is null ? null : JsonSerializer.SerializeToElement(_ext);
        }
    }
}
