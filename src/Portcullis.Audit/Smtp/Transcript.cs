using System.Text;

namespace Portcullis.Audit.Smtp;

/// <summary>
/// The C:/S: record of an SMTP conversation, kept as evidence (DESIGN principle 5: every finding carries
/// the transcript that proves it). Bare CR, LF and NUL are shown escaped so that smuggling probes can be read.
/// </summary>
public sealed class Transcript
{
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    public int Mark() { lock (_lock) { return _lines.Count; } }

    /// <summary>What the client sent: one C: line per CRLF-terminated line; bare CR, LF and NUL stay visible as escapes.</summary>
    public void Client(string raw)
    {
        var parts = raw.Split("\r\n");
        var n = raw.EndsWith("\r\n", StringComparison.Ordinal) ? parts.Length - 1 : parts.Length;
        for (var i = 0; i < n; i++)
        {
            Add("C: ", i < n - 1 || raw.EndsWith("\r\n", StringComparison.Ordinal) ? parts[i] : parts[i] + " (no CRLF)");
        }
    }
    public void Server(string line) => Add("S: ", line);
    public void Note(string text) => Add("-- ", text);

    private void Add(string prefix, string raw)
    {
        lock (_lock)
        {
            _lines.Add(prefix + Visible(raw));
        }
    }

    /// <summary>The lines recorded since <paramref name="mark"/>.</summary>
    public string Since(int mark)
    {
        lock (_lock)
        {
            return string.Join("\n", _lines.Skip(mark));
        }
    }

    public override string ToString() => Since(0);

    /// <summary>Shows control characters (a sent command's own CRLF is dropped first; anything else is escaped).</summary>
    public static string Visible(string raw) => Escape(raw.EndsWith("\r\n", StringComparison.Ordinal) ? raw[..^2] : raw);

    /// <summary>Every control character escaped, line ends included.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            sb.Append(ch switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\0' => "\\x00",
                _ when ch < ' ' => $"\\x{(int)ch:x2}",
                _ => ch.ToString(),
            });
        }
        return sb.ToString();
    }
}
