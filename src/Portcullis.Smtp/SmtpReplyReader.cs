using System.Text;

namespace Portcullis.Smtp;

/// <summary>
/// Client side: reads whole SMTP replies from a stream, line by line, with a cap on what one reply may
/// hold so that a hostile server cannot make the reader buffer without end.
/// </summary>
public sealed class SmtpReplyReader
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public SmtpReplyReader(Stream stream, int maxReplyBytes = 64 * 1024)
    {
        _stream = stream;
        MaxReplyBytes = maxReplyBytes;
    }

    public int MaxReplyBytes { get; }

    /// <summary>True when bytes are buffered beyond the last reply read (e.g. a server that sent more than it was asked for).</summary>
    public bool HasBufferedBytes => _end > _start;

    /// <summary>Discards whatever is buffered. A client MUST do this after the 220 to STARTTLS (CVE-2026-41319 class; catalog §3.2).</summary>
    public int DiscardBuffered()
    {
        var n = _end - _start;
        _start = _end = 0;
        return n;
    }

    /// <summary>Reads one line (without its line ending). Accepts a bare LF as a line end, because a prober must be able to read broken servers. Returns null at end of stream.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        var sb = new StringBuilder();
        var total = 0;
        while (true)
        {
            for (var i = _start; i < _end; i++)
            {
                if (_buffer[i] == (byte)'\n')
                {
                    var len = i - _start;
                    if (len > 0 && _buffer[i - 1] == (byte)'\r')
                    {
                        len--;
                    }
                    sb.Append(Encoding.Latin1.GetString(_buffer, _start, len));
                    _start = i + 1;
                    return sb.ToString();
                }
            }
            // No line end yet: keep what we have and read more.
            total += _end - _start;
            if (total > MaxReplyBytes)
            {
                throw new IOException($"reply line longer than {MaxReplyBytes} bytes");
            }
            sb.Append(Encoding.Latin1.GetString(_buffer, _start, _end - _start));
            _start = _end = 0;
            var n = await _stream.ReadAsync(_buffer.AsMemory(), ct).ConfigureAwait(false);
            if (n == 0)
            {
                return sb.Length > 0 ? sb.ToString() : null;
            }
            _end = n;
        }
    }

    /// <summary>Reads one complete (possibly multi-line) reply. Returns null when the server closed the connection first.</summary>
    public async Task<SmtpReply?> ReadReplyAsync(CancellationToken ct)
    {
        var texts = new List<string>();
        var code = 0;
        var bytes = 0;
        while (true)
        {
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            if (line is null)
            {
                return texts.Count > 0 ? SmtpReplyParser.Build(code, texts) : null;
            }
            bytes += line.Length;
            if (bytes > MaxReplyBytes)
            {
                throw new IOException($"reply longer than {MaxReplyBytes} bytes");
            }
            if (!SmtpReplyParser.TryParseLine(line, out var c, out var last, out var text))
            {
                throw new InvalidDataException($"not an SMTP reply line: {Truncate(line)}");
            }
            code = c;
            texts.Add(text);
            if (last)
            {
                return SmtpReplyParser.Build(code, texts);
            }
        }
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
