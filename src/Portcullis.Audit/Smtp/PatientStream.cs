namespace Portcullis.Audit.Smtp;

/// <summary>
/// A read-only view of a transport stream whose reads can time out without being cancelled: a timed-out
/// read stays pending and its bytes are handed to the next read. Cancelling a read on an SslStream can leave
/// it unusable, and the smuggling check (catalog §2.3, smtpsmug) must be able to wait for a reply, give up,
/// send more and read again on the same connection.
/// </summary>
internal sealed class PatientStream(Stream inner) : Stream
{
    private readonly byte[] _buffer = new byte[4096];
    private Task<int>? _pending;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        _pending ??= inner.ReadAsync(_buffer, 0, Math.Min(_buffer.Length, destination.Length));
        if (!_pending.IsCompleted)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (cancellationToken.Register(() => cancelled.TrySetResult()))
            {
                await Task.WhenAny(_pending, cancelled.Task).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        var task = _pending;
        _pending = null;
        var n = await task.ConfigureAwait(false);
        _buffer.AsSpan(0, n).CopyTo(destination.Span);
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
