using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Portcullis.Smtp;

/// <summary>What reading one command line produced.</summary>
public enum LineKind
{
    Line,
    /// <summary>Longer than the limit (RFC 5321 §4.5.3.1.4); the rest of it up to its line end was discarded.</summary>
    TooLong,
    /// <summary>A bare CR inside, or a bare LF ending it (RFC 5321 §2.3.8).</summary>
    BareLineEnding,
    /// <summary>A NUL byte inside.</summary>
    Nul,
    /// <summary>The client closed the connection.</summary>
    EndOfStream,
}

public readonly record struct CommandLine(LineKind Kind, string Text);

/// <summary>Why a message read by DATA cannot be accepted. The first problem seen wins.</summary>
public enum DataProblem
{
    None,
    BareLineEnding,
    Nul,
    LineTooLong,
    TooBig,
}

/// <summary>The outcome of reading a DATA body. <see cref="Completed"/> is false when the client went away before CRLF.CRLF.</summary>
public readonly record struct DataResult(bool Completed, long Size, DataProblem Problem);

/// <summary>
/// The server's strict reader over System.IO.Pipelines. Only CRLF ends a line; only CRLF.CRLF ends DATA
/// (RFC 5321 §2.3.8, §4.1.1.4, catalog §2). Bare CR, bare LF and NUL are reported, never silently fixed,
/// and a line with one of them is never treated as a line end or as the end of data.
/// </summary>
public sealed class SmtpInput
{
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';
    private static readonly byte[] Space = " "u8.ToArray();
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly PipeReader _reader;

    public SmtpInput(Stream stream)
    {
        _reader = Create(stream);
    }

    private static PipeReader Create(Stream stream) =>
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 8192, minimumReadSize: 2048, leaveOpen: true));

    /// <summary>
    /// Reads one command line (without CRLF). <paramref name="maxLength"/> counts the CRLF too
    /// (RFC 5321 §4.5.3.1.4: 512 octets for a command line).
    /// </summary>
    public async ValueTask<CommandLine> ReadCommandAsync(int maxLength, CancellationToken ct)
    {
        var discarding = false;
        while (true)
        {
            var result = await _reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            var lf = buffer.PositionOf(LF);
            if (lf is null)
            {
                if (result.IsCompleted)
                {
                    _reader.AdvanceTo(buffer.End);
                    return new CommandLine(LineKind.EndOfStream, "");
                }
                if (discarding || buffer.Length > maxLength)
                {
                    // Too long already: drop what we have and go on dropping up to the line end.
                    discarding = true;
                    _reader.AdvanceTo(buffer.End);
                    continue;
                }
                _reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            var line = buffer.Slice(0, lf.Value);
            var next = buffer.GetPosition(1, lf.Value);
            try
            {
                if (discarding)
                {
                    return new CommandLine(LineKind.TooLong, "");
                }
                return Classify(line, maxLength);
            }
            finally
            {
                // Only now: the line's memory belongs to the pipe again once we advance past it.
                _reader.AdvanceTo(next);
            }
        }
    }

    private static CommandLine Classify(ReadOnlySequence<byte> line, int maxLength)
    {
        var endsWithCr = line.Length > 0 && LastByte(line) == CR;
        var content = endsWithCr ? line.Slice(0, line.Length - 1) : line;
        if (content.Length + 2 > maxLength)
        {
            return new CommandLine(LineKind.TooLong, "");
        }
        Span<byte> bytes = content.Length <= 1024 ? stackalloc byte[(int)content.Length] : new byte[content.Length];
        content.CopyTo(bytes);
        if (!endsWithCr || bytes.Contains(CR))
        {
            return new CommandLine(LineKind.BareLineEnding, Utf8.GetString(bytes));
        }
        if (bytes.Contains((byte)0))
        {
            return new CommandLine(LineKind.Nul, "");
        }
        return new CommandLine(LineKind.Line, Utf8.GetString(bytes));
    }

    /// <summary>
    /// Reads a DATA body up to CRLF.CRLF, dot-unstuffing (RFC 5321 §4.5.2), into <paramref name="output"/>.
    /// After a problem (bare CR/LF, NUL, overlong line, size) it stops storing but reads on to the real
    /// CRLF.CRLF, so the rest of the message is never parsed as commands (catalog §2.4).
    /// <paramref name="maxLineLength"/> counts the CRLF (RFC 5321 §4.5.3.1.6: 1000).
    /// </summary>
    /// <param name="replaceStrayLineEndings">
    /// false (the MX): a bare CR or LF makes the message refused. true (submission from our own users): each
    /// stray CR or LF is stored as a space, as Postfix's cleanup_replace_stray_cr_lf does, so no stray line
    /// ending can ever leave the server (catalog §2.4, sender side). Either way only CRLF.CRLF ends DATA.
    /// </param>
    public async ValueTask<DataResult> ReadDataAsync(IBufferWriter<byte> output, long maxSize, int maxLineLength, CancellationToken ct, Action? onProgress = null, bool replaceStrayLineEndings = false)
    {
        var problem = DataProblem.None;
        long size = 0;
        var atLineStart = true;   // the previous line ended with CRLF (or DATA just began)
        long lineLength = 0;      // octets of the current line seen so far (for an overlong line read in parts)

        void Store(ReadOnlySequence<byte> bytes, bool addCrlf)
        {
            if (problem != DataProblem.None)
            {
                return;
            }
            var n = bytes.Length + (addCrlf ? 2 : 0);
            if (size + n > maxSize)
            {
                problem = DataProblem.TooBig;
                return;
            }
            size += n;
            foreach (var seg in bytes)
            {
                if (replaceStrayLineEndings && seg.Span.IndexOfAny(CR, LF) >= 0)
                {
                    var copy = seg.Span.ToArray();
                    copy.AsSpan().Replace(CR, (byte)' ');
                    copy.AsSpan().Replace(LF, (byte)' ');
                    output.Write(copy);
                }
                else
                {
                    output.Write(seg.Span);
                }
            }
            if (addCrlf)
            {
                output.Write("\r\n"u8);
            }
        }

        void Inspect(ReadOnlySequence<byte> bytes)
        {
            if (problem != DataProblem.None)
            {
                return;
            }
            foreach (var seg in bytes)
            {
                var span = seg.Span;
                var i = replaceStrayLineEndings ? span.IndexOf((byte)0) : span.IndexOfAny(CR, LF, (byte)0);
                if (i >= 0)
                {
                    problem = span[i] == 0 ? DataProblem.Nul : DataProblem.BareLineEnding;
                    return;
                }
            }
        }

        while (true)
        {
            var result = await _reader.ReadAsync(ct).ConfigureAwait(false);
            onProgress?.Invoke();
            var buffer = result.Buffer;
            while (true)
            {
                var lf = buffer.PositionOf(LF);
                if (lf is null)
                {
                    break;
                }
                var line = buffer.Slice(0, lf.Value);
                buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
                var crlf = line.Length > 0 && LastByte(line) == CR;
                var content = crlf ? line.Slice(0, line.Length - 1) : line;

                if (atLineStart && crlf && content.Length == 1 && FirstByte(content) == (byte)'.')
                {
                    _reader.AdvanceTo(buffer.Start);
                    return new DataResult(true, size, problem);
                }
                if (!crlf && replaceStrayLineEndings)
                {
                    // A stray LF inside a line: stored as a space; the line goes on.
                    Inspect(content);
                    if (atLineStart && content.Length > 0 && FirstByte(content) == (byte)'.')
                    {
                        content = content.Slice(1);
                    }
                    Store(content, addCrlf: false);
                    Store(new ReadOnlySequence<byte>(Space), addCrlf: false);
                    atLineStart = false;
                    lineLength += line.Length + 1;
                    continue;
                }
                if (!crlf)
                {
                    // A bare LF: never a line end (lflf, lfcrlf, crlflf of catalog §2.2).
                    Inspect(content);
                    if (problem == DataProblem.None)
                    {
                        problem = DataProblem.BareLineEnding;
                    }
                    atLineStart = false;
                    lineLength += line.Length + 1;
                    continue;
                }
                lineLength += content.Length + 2;
                if (lineLength > maxLineLength && problem == DataProblem.None)
                {
                    problem = DataProblem.LineTooLong;
                }
                Inspect(content);
                if (atLineStart && content.Length > 0 && FirstByte(content) == (byte)'.')
                {
                    content = content.Slice(1); // RFC 5321 §4.5.2 transparency
                }
                Store(content, addCrlf: true);
                atLineStart = true;
                lineLength = 0;
            }

            if (result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                return new DataResult(false, size, problem);
            }
            // No LF in what is left. A long run without one is stored in part (keeping a final CR that may
            // start the CRLF), so an endless line cannot make us buffer without bound.
            if (buffer.Length > 4096)
            {
                var keep = LastByte(buffer) == CR ? 1 : 0;
                var part = buffer.Slice(0, buffer.Length - keep);
                Inspect(part);
                if (atLineStart && FirstByte(part) == (byte)'.')
                {
                    part = part.Slice(1);
                }
                lineLength += buffer.Length - keep;
                if (lineLength > maxLineLength && problem == DataProblem.None)
                {
                    problem = DataProblem.LineTooLong;
                }
                Store(part, addCrlf: false);
                atLineStart = false;
                buffer = buffer.Slice(part.End);
                _reader.AdvanceTo(buffer.Start, buffer.End);
            }
            else
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>True when input is buffered beyond what was consumed (a pipelined command).</summary>
    public bool HasBufferedInput()
    {
        if (_reader.TryRead(out var result))
        {
            var any = !result.Buffer.IsEmpty;
            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
            return any;
        }
        return false;
    }

    /// <summary>
    /// Throws away everything buffered and stops reading this stream. Used after the 220 to STARTTLS:
    /// plaintext pipelined behind STARTTLS must not be executed inside TLS (CVE-2011-0411, RFC 3207 §4.2).
    /// Returns how many bytes were dropped, for the log.
    /// </summary>
    public long DiscardBuffered()
    {
        long dropped = 0;
        if (_reader.TryRead(out var result))
        {
            dropped = result.Buffer.Length;
            _reader.AdvanceTo(result.Buffer.End);
        }
        _reader.Complete();
        return dropped;
    }

    public void Complete() => _reader.Complete();

    private static byte LastByte(ReadOnlySequence<byte> s) => s.Slice(s.Length - 1).FirstSpan[0];

    private static byte FirstByte(ReadOnlySequence<byte> s) => s.FirstSpan[0];
}
