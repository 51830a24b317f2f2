using System.Text;

namespace Portcullis.Logs;

/// <summary>
/// Writes finished log lines to a stream from one background thread, taking everything queued since its
/// last write in one write(2), at most every <see cref="Pause"/>. The server logs two lines per message;
/// with the console logger each line was its own wake-up of the writer thread and its own write call, 20 us
/// per line on the benchmark machine (bench/RESULTS.md, "accept, session 3"). A line written after a quiet
/// spell still goes out at once; under load lines wait up to <see cref="Pause"/> and go out together.
/// Nothing is dropped: a caller waits while more than <see cref="MaxQueuedBytes"/> are queued (a stalled
/// stderr slows the server rather than losing the lines that explain its decisions), and Dispose writes
/// what is still queued.
/// </summary>
public sealed class LogLineWriter : IDisposable
{
    private const int MaxQueuedBytes = 1 << 20;

    /// <summary>The writer's rest after each write: lines arriving meanwhile share the next one.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    private readonly Stream _output;
    private readonly object _gate = new(); // Monitor.Wait/Pulse need a monitor, not a Lock
    private readonly Thread _thread;
    private byte[] _queued = new byte[16 * 1024];
    private byte[] _writing = new byte[16 * 1024];
    private int _queuedLength;
    private bool _closing;

    public LogLineWriter(Stream output)
    {
        _output = output;
        _thread = new Thread(Run) { IsBackground = true, Name = "portcullis-log" };
        _thread.Start();
    }

    /// <summary>Queues one line; <paramref name="line"/> must already end in its newline.</summary>
    public void Write(ReadOnlySpan<char> line)
    {
        var length = Encoding.UTF8.GetByteCount(line);
        lock (_gate)
        {
            while (_queuedLength > 0 && _queuedLength + length > MaxQueuedBytes && !_closing)
            {
                Monitor.Wait(_gate);
            }
            if (_queuedLength + length > _queued.Length)
            {
                Array.Resize(ref _queued, Math.Max(_queued.Length * 2, _queuedLength + length));
            }
            _queuedLength += Encoding.UTF8.GetBytes(line, _queued.AsSpan(_queuedLength));
            if (_queuedLength == length)
            {
                Monitor.PulseAll(_gate); // the writer sleeps only when nothing was queued
            }
        }
    }

    private void Run()
    {
        while (true)
        {
            int length;
            lock (_gate)
            {
                while (_queuedLength == 0 && !_closing)
                {
                    Monitor.Wait(_gate);
                }
                if (_queuedLength == 0)
                {
                    return; // closing, and everything is written
                }
                (_queued, _writing) = (_writing, _queued);
                length = _queuedLength;
                _queuedLength = 0;
                Monitor.PulseAll(_gate); // callers waiting for room
            }
            try
            {
                _output.Write(_writing, 0, length);
                _output.Flush();
            }
            catch (IOException)
            {
                // stderr closed (the terminal went away): the lines have nowhere to go; keep serving mail.
            }
            if (!Volatile.Read(ref _closing))
            {
                Thread.Sleep(Pause);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
    }
}
