using System.IO.Pipelines;

namespace Halley.Transports.WebSockets;

/// <summary>
/// A <see cref="Stream"/> over a connection's pipes, so the framework's WebSocket runs directly on Kestrel's
/// transport. Every write goes through one lock, so frames the framework's WebSocket does not write can be slipped
/// in between whole frames (it writes each frame in one call): heartbeat pings, which it has no API for, and the
/// connection's text frames, written straight into the output pipe (<see cref="SendTextAsync"/>).
/// </summary>
/// <remarks>
/// Sending text frames here rather than through <see cref="System.Net.WebSockets.WebSocket.SendAsync(ReadOnlyMemory{byte}, System.Net.WebSockets.WebSocketMessageType, bool, CancellationToken)"/>
/// saves the framework's copy into its send buffer, its cancellable send path (taken whenever a token can be
/// cancelled, and Halley always passes the connection's abort token so that no send can hang on a dead socket) and
/// the stream layer over the pipe: 11–14% of a fan-out's server time in the profile of issue 10. The framework's
/// WebSocket keeps reading, answering pings and closing; the connection sends nothing after its close frame.
/// </remarks>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream, IWebSocketFrameSink
{
    // FIN + text opcode (RFC 6455 §5.2).
    private const byte FinalText = 0x81;

    // An unmasked, empty, final ping frame (RFC 6455 §5.5.2): what a server sends to keep a connection alive.
    private static readonly byte[] PingFrame = [0x89, 0x00];

    private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
    private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Set under the write lock when the framework's WebSocket writes its close frame: nothing may follow it (RFC 6455 §5.5.1).
    private bool _closeSent;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>
    /// Writes a ping frame unless a frame is being written right now (then the connection is not idle and needs
    /// none). Never blocks the caller: the shared sweep calls it for every idle connection.
    /// </summary>
    public async Task TrySendPingAsync(CancellationToken cancellationToken)
    {
        if (!_writeLock.Wait(0, CancellationToken.None))
        {
            return;
        }
        try
        {
            await _output.WriteAsync(PingFrame, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SendTextAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!_writeLock.Wait(0, CancellationToken.None))
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            if (_closeSent)
            {
                throw new System.Net.WebSockets.WebSocketException(System.Net.WebSockets.WebSocketError.InvalidState, "The close frame was sent: no frame may follow it.");
            }
            WriteTextFrame(pipe.Output, payload.Span);
            var flush = pipe.Output.FlushAsync(cancellationToken);
            // Await (and so allocate this method's state) only when the socket pushes back.
            if (!flush.IsCompletedSuccessfully)
            {
                await flush.ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Under the write lock: the framework's WebSocket writes a whole frame per call, so its first byte says which.</summary>
    private void NoteFrame(ReadOnlySpan<byte> frame)
    {
        if (!frame.IsEmpty && (frame[0] & 0x0F) == 0x08)
        {
            _closeSent = true;
        }
    }

    /// <summary>Writes the frame header (2, 4 or 10 bytes: no mask from a server) and the payload into <paramref name="output"/>.</summary>
    internal static void WriteTextFrame(PipeWriter output, ReadOnlySpan<byte> payload)
    {
        var headerLength = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var span = output.GetSpan(headerLength + payload.Length);
        span[0] = FinalText;
        switch (headerLength)
        {
            case 2:
                span[1] = (byte)payload.Length;
                break;
            case 4:
                span[1] = 126;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)payload.Length);
                break;
            default:
                span[1] = 127;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)payload.Length);
                break;
        }
        payload.CopyTo(span[headerLength..]);
        output.Advance(headerLength + payload.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count)
    {
        _writeLock.Wait();
        try
        {
            NoteFrame(buffer.AsSpan(offset, count));
            _output.Write(buffer, offset, count);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NoteFrame(buffer.Span);
            await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _output.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The framework's WebSocket disposes its stream when aborted: a read pending on the pipe must end then too, or
            // an aborted socket (a message over its read time, a close never answered) would stay open until the client
            // sends again. Found by the hostile corpus (frames/trickled-message on the connection-level path).
            pipe.Input.CancelPendingRead();
            _writeLock.Dispose();
        }
        base.Dispose(disposing);
    }
}
