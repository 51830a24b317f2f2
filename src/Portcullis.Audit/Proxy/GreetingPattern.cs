namespace Portcullis.Audit.Proxy;

/// <summary>
/// The stable part of a mail server's 220 greeting, learnt from two direct reads: words both reads agree
/// on must appear through the proxy; words that differ (a timestamp, the client's port) may differ.
/// pxytest's advice (catalog §5.2): match "what your server actually sends", not just "220 ", so a
/// honeypot or a banner-echoing port cannot fake the proof.
/// </summary>
public sealed class GreetingPattern
{
    private readonly string?[] _words;

    private GreetingPattern(string?[] words, string first)
    {
        _words = words;
        Example = first;
    }

    /// <summary>The first direct greeting line, for reports.</summary>
    public string Example { get; }

    /// <summary>Number of words that must match exactly.</summary>
    public int FixedWords => _words.Count(w => w is not null);

    public static bool TryLearn(string firstRead, string secondRead, out GreetingPattern pattern, out string error)
    {
        pattern = null!;
        var a = Words(firstRead);
        var b = Words(secondRead);
        if (a.Length == 0 || a[0] != "220" && !a[0].StartsWith("220-", StringComparison.Ordinal))
        {
            error = $"the greeting is not a 220 reply: '{firstRead}'";
            return false;
        }
        if (a.Length != b.Length)
        {
            error = $"two direct greetings differ in shape: '{firstRead}' / '{secondRead}'";
            return false;
        }
        var words = new string?[a.Length];
        for (var i = 0; i < a.Length; i++)
        {
            words[i] = a[i] == b[i] ? a[i] : null;
        }
        var p = new GreetingPattern(words, firstRead);
        // "220" alone is what any SMTP server sends: require the host name (or another word) to be stable too.
        if (p.FixedWords < 2)
        {
            error = $"the greeting has too little stable text to recognise it through a proxy: '{firstRead}'";
            return false;
        }
        pattern = p;
        error = "";
        return true;
    }

    /// <summary>Does this line (one line, CR/LF stripped) match the greeting?</summary>
    public bool Matches(string line)
    {
        var w = Words(line);
        if (w.Length != _words.Length)
        {
            return false;
        }
        for (var i = 0; i < w.Length; i++)
        {
            if (_words[i] is { } fixedWord && fixedWord != w[i])
            {
                return false;
            }
        }
        return true;
    }

    private static string[] Words(string line) =>
        line.TrimEnd('\r', '\n').Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
