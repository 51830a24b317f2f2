using System.Text;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// The bytes exchanged with a proxy, as evidence: "C:" what the auditor sent, "S:" what came back,
/// printable ASCII as is, everything else as \xNN, binary protocols also in hex.
/// </summary>
public sealed class ProbeTranscript
{
    private readonly StringBuilder _text = new();

    public void Note(string line) => _text.Append("   ").Append(line).Append('\n');

    public void Sent(ReadOnlySpan<byte> data, bool binary = false) => Add("C: ", data, binary);

    public void Received(ReadOnlySpan<byte> data, bool binary = false) => Add("S: ", data, binary);

    public override string ToString() => _text.ToString().TrimEnd('\n');

    private void Add(string prefix, ReadOnlySpan<byte> data, bool binary)
    {
        if (binary)
        {
            _text.Append(prefix).Append('[').Append(Convert.ToHexString(data[..Math.Min(data.Length, 64)]).ToLowerInvariant());
            _text.Append(data.Length > 64 ? "..]" : "]");
            if (data.Length > 8)
            {
                _text.Append("  ").Append(Escape(data[8..]));
            }
            _text.Append('\n');
            return;
        }
        // One transcript line per protocol line, so a relayed banner reads as it arrived.
        var start = 0;
        while (start < data.Length)
        {
            var nl = data[start..].IndexOf((byte)'\n');
            var end = nl < 0 ? data.Length : start + nl + 1;
            _text.Append(prefix).Append(Escape(data[start..end])).Append('\n');
            start = end;
        }
    }

    public static string Escape(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length);
        foreach (var b in data)
        {
            switch (b)
            {
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case >= 0x20 and < 0x7F: sb.Append((char)b); break;
                default: sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
        return sb.ToString();
    }
}
