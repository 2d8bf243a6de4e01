namespace Halley.Transports.WebSockets;

/// <summary>
/// When a WebSocket connection flushes: a flush is started on demand, one runs at a time, and no wake-up is
/// lost between a flush finding nothing and stopping. Lock-free; a mutable struct, so it lives in a field and
/// is never copied.
/// </summary>
internal struct FlushSignal
{
    // _dirty: something was queued since the flush last looked. _flushing: a flush is running.
    private int _dirty;
    private int _flushing;

    /// <summary>Notes that something was queued; true when no flush is running and the caller must start one.</summary>
    public bool Wake()
    {
        Volatile.Write(ref _dirty, 1);
        return Interlocked.Exchange(ref _flushing, 1) == 0;
    }

    /// <summary>For the running flush: true (and cleared) when something was queued since it last looked.</summary>
    public bool TakeDirty() => Interlocked.Exchange(ref _dirty, 0) != 0;

    /// <summary>For the running flush that found nothing new: true when it stops, false when it must carry on.</summary>
    public bool TryStop()
    {
        // Nothing new. A full fence (not a plain write) before re-reading _dirty: a wake-up that saw
        // this flush still running started none, so look once more and carry on if one came.
        Interlocked.Exchange(ref _flushing, 0);
        return Volatile.Read(ref _dirty) == 0 || Interlocked.Exchange(ref _flushing, 1) == 1;
    }
}
