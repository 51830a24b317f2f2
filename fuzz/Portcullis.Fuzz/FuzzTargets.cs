using System.Buffers;
using System.Text;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Scan.Syn;
using Portcullis.Audit.Smtp;
using Portcullis.Smtp;

namespace Portcullis.Fuzz;

/// <summary>
/// Everything Portcullis parses from the network, fed arbitrary bytes. Server side, what a hostile client
/// sends: command lines, paths, ESMTP parameters, DATA. Auditor side, what a hostile server sends: SMTP
/// replies, NTLM challenges, proxy replies, raw TCP segments. Each target returns normally or throws one of
/// the exceptions its parser documents; anything else is a bug (a crash for afl), and so is a hang.
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["smtp-server-input"] = SmtpServerInput,
        ["smtp-reply"] = SmtpReply,
        ["ntlm-challenge"] = NtlmChallenge,
        ["proxy-replies"] = ProxyReplyParsers,
        ["tcp-segment"] = TcpSegmentParser,
    };

    /// <summary>
    /// A client's bytes as the MX reads them: command lines (512 octets, as the session reads all but AUTH),
    /// each parsed into a verb; MAIL and RCPT arguments through the path and ESMTP parameter parsers; after
    /// DATA the body up to CRLF.CRLF, with the MX's limits, both ways of treating stray line endings.
    /// </summary>
    public static void SmtpServerInput(byte[] data)
    {
        var input = new SmtpInput(new MemoryStream(data, writable: false));
        var body = new ArrayBufferWriter<byte>();
        var lines = 0;
        while (lines++ <= data.Length)
        {
            var line = input.ReadCommandAsync(12288, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            if (line.Kind == LineKind.EndOfStream)
            {
                return;
            }
            if (line.Kind != LineKind.Line)
            {
                continue;
            }
            var command = SmtpCommand.Parse(line.Text);
            switch (command.Verb)
            {
                case SmtpVerb.Mail or SmtpVerb.Rcpt:
                    var after = SmtpCommand.AfterKeyword(command.Argument, command.Verb == SmtpVerb.Mail ? "FROM" : "TO");
                    if (after is not null && PathParser.TryParse(after, command.Verb == SmtpVerb.Mail, out var path, out var rest) == PathError.None)
                    {
                        _ = path.ToString();
                        _ = EsmtpParameters.TryParse(rest, out _);
                    }
                    break;
                case SmtpVerb.Vrfy or SmtpVerb.Expn:
                    _ = PathParser.ParseMailbox(command.Argument, out _);
                    break;
                case SmtpVerb.Data:
                    body.ResetWrittenCount();
                    var result = input.ReadDataAsync(body, 10 * 1024 * 1024, 1000, CancellationToken.None, replaceStrayLineEndings: (lines & 1) == 0).AsTask().GetAwaiter().GetResult();
                    if (result.Size < 0 || result.Size > data.Length)
                    {
                        throw new InvalidOperationException($"DATA size {result.Size} from {data.Length} input bytes");
                    }
                    break;
            }
        }
        throw new InvalidOperationException("more command lines than input bytes: the reader does not advance");
    }

    /// <summary>A server's replies as the auditor reads them (64 KB per reply at most).</summary>
    public static void SmtpReply(byte[] data)
    {
        var reader = new SmtpReplyReader(new MemoryStream(data, writable: false), maxReplyBytes: 4096);
        var replies = 0;
        try
        {
            while (reader.ReadReplyAsync(CancellationToken.None).GetAwaiter().GetResult() is { } reply)
            {
                _ = reply.ToWire();
                if (++replies > data.Length)
                {
                    throw new InvalidOperationException("more replies than input bytes: the reader does not advance");
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // documented: a reply longer than the limit, or a line that is no SMTP reply
        }
    }

    /// <summary>An NTLM CHALLENGE_MESSAGE from a server's AUTH NTLM answer (auth.ntlm-info).</summary>
    public static void NtlmChallenge(byte[] data)
    {
        try
        {
            _ = NtlmMessages.ParseChallenge(data).ToString();
        }
        catch (FormatException)
        {
            // documented: not a CHALLENGE_MESSAGE
        }
    }

    /// <summary>A proxy's first answer, through every parser `audit proxy` may give it to.</summary>
    public static void ProxyReplyParsers(byte[] data)
    {
        _ = ProxyReplies.TryParseHttpHead(data, out _, out _);
        _ = ProxyReplies.TryParseSocks4(data, out _, out _);
        _ = ProxyReplies.TryParseSocks5Method(data, out _, out _);
        if (ProxyReplies.TryParseSocks5Reply(data, out _, out var length, out _) && (length < 0 || length > data.Length))
        {
            throw new InvalidOperationException($"SOCKS5 reply length {length} of {data.Length} bytes");
        }
    }

    /// <summary>A packet from the SYN receiver's raw socket.</summary>
    public static void TcpSegmentParser(byte[] data) => _ = TcpSegment.TryParseIPv4(data, out _);

    /// <summary>Printable for test names and messages.</summary>
    public static string Describe(byte[] data) => Encoding.Latin1.GetString(data.AsSpan(0, Math.Min(60, data.Length)));
}
