using System.Buffers;
using System.Diagnostics;

namespace Portcullis.Server.Smtp;

/// <summary>
/// How long the session has been waiting for its client, for the listener's stress sweep
/// (<see cref="ListenerStress"/>): under a connection flood a client that keeps the server waiting longer than
/// <c>limits.stress_timeout</c> is disconnected with 421 4.4.2, whenever it started to wait. The session's own
/// timeouts (<see cref="_timeout"/>) stay as configured; the sweep only cuts them short.
/// </summary>
public sealed partial class SmtpSession
{
    /// <summary>Not waiting for the client (handling a command, waiting for the disk, writing a reply).</summary>
    private const long NotWaiting = 0;

    /// <summary>Set by <see cref="ExpireIfWaitingSince"/>: the session is to end.</summary>
    private const long Expired = -1;

    /// <summary><see cref="Stopwatch.GetTimestamp"/> of the start of the current wait or of the client's last progress in it.</summary>
    private long _waitingSince = NotWaiting;

    private volatile bool _stressExpired;

    private void BeginWaitingForClient() => Volatile.Write(ref _waitingSince, Stopwatch.GetTimestamp());

    /// <summary>
    /// The lowest average rate, in octets per second, at which a message's bytes must arrive under stress once the
    /// stress timeout's grace is spent (Postfix's smtpd_min_data_rate, applied by its stress-time per-request
    /// deadline): a client that sends a byte every few seconds is not idle, but it must not hold a slot for hours.
    /// </summary>
    internal const int MinDataRateUnderStress = 500;

    private ArrayBufferWriter<byte>? _data;
    private long _dataStarted;
    private int _dataStartLength;

    /// <summary>The message's bytes are read into <paramref name="buffer"/> from now on.</summary>
    private void BeginReadingData(ArrayBufferWriter<byte> buffer)
    {
        _data = buffer;
        _dataStartLength = buffer.WrittenCount;
        _dataStarted = Stopwatch.GetTimestamp();
        Volatile.Write(ref _waitingSince, _dataStarted);
    }

    /// <summary>
    /// Progress in DATA: each block restarts RFC 5321 §4.5.3.2.6's data block timeout, and moves the sweep's
    /// clock on by the time the bytes so far earn at <see cref="MinDataRateUnderStress"/> (never past now).
    /// </summary>
    private void DataArrived()
    {
        _timeout.CancelAfter(Limits.DataTimeout);
        var seen = Volatile.Read(ref _waitingSince);
        if (seen <= 0 || _data is null)
        {
            return;
        }
        var now = Stopwatch.GetTimestamp();
        var earned = (_data.WrittenCount - _dataStartLength) * Stopwatch.Frequency / MinDataRateUnderStress;
        var since = Math.Min(now, _dataStarted + earned);
        if (since > seen)
        {
            Interlocked.CompareExchange(ref _waitingSince, since, seen);
        }
    }

    private void EndReadingData()
    {
        _data = null;
        EndWaitingForClient();
    }

    /// <summary>
    /// Ends the wait. Throws when the sweep expired the session meanwhile, even if the client's input arrived in
    /// the same instant: the session is already cancelled, and it must not start on a command it cannot finish.
    /// </summary>
    private void EndWaitingForClient()
    {
        if (Interlocked.Exchange(ref _waitingSince, NotWaiting) == Expired)
        {
            _stressExpired = true;
            throw new OperationCanceledException("disconnected under stress");
        }
    }

    /// <summary>
    /// Called by the listener's sweep under stress: when the session has been waiting for its client since before
    /// <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp), ends it. A session that is working (not
    /// waiting) is never touched, so a commit in progress is never cancelled by the sweep.
    /// </summary>
    internal bool ExpireIfWaitingSince(long deadline)
    {
        var since = Volatile.Read(ref _waitingSince);
        if (since <= 0 || since > deadline)
        {
            return false;
        }
        if (Interlocked.CompareExchange(ref _waitingSince, Expired, since) != since)
        {
            return false; // the client spoke in the meantime
        }
        _stressExpired = true;
        try
        {
            _timeout.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended on its own in the meantime.
        }
        return true;
    }
}
