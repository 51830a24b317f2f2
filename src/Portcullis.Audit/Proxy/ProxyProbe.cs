using System.Net;
using System.Text;

namespace Portcullis.Audit.Proxy;

/// <summary>Time limits of one probe. HOPM waits 30 s (catalog §5.1); on a LAN a few seconds are plenty.</summary>
public sealed record ProbeTimeouts
{
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>For the proxy's reply to a request.</summary>
    public TimeSpan Reply { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>For the proof (canary token, greeting) after a grant.</summary>
    public TimeSpan Proof { get; init; } = TimeSpan.FromSeconds(4);
    /// <summary>For a gateway's prompt before typing the target.</summary>
    public TimeSpan Prompt { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Runs one proxy protocol against one port towards one destination, on its own connection, and says
/// how it ended. Open only when the destination's proof came back through the proxy (catalog §5.1:
/// "Protocol-level success (HTTP 200, SOCKS granted) is not enough. Only the target string counts").
/// </summary>
public static class ProxyProbe
{
    public static async Task<ProbeOutcome> RunAsync(IPEndPoint proxy, ProxyProtocol protocol, ProbeDestination destination, ProbeTimeouts timeouts, CancellationToken ct)
    {
        var transcript = new ProbeTranscript();
        transcript.Note($"{protocol.Id()} via {ProxyHandshake.Authority(proxy.Address.ToString(), proxy.Port)} to {destination.Describe}");
        var (session, error, failure) = await ProbeSession.ConnectAsync(proxy, protocol.OverTls(), timeouts.Connect, timeouts.Reply, transcript, ct).ConfigureAwait(false);
        if (session is null)
        {
            var result = failure switch
            {
                // The port took the TCP connection but does not speak TLS: not this protocol.
                ProbeSession.OpenFailure.TlsRefused => ProbeResult.OtherProtocol,
                ProbeSession.OpenFailure.TlsSilent => ProbeResult.NoAnswer,
                _ => ProbeResult.Unreachable,
            };
            return Outcome(protocol, proxy, destination, result, $"port {proxy.Port}: {error}", transcript) with
            {
                TlsHandshakeFailed = failure is ProbeSession.OpenFailure.TlsRefused or ProbeSession.OpenFailure.TlsSilent,
            };
        }
        using (session)
        {
            try
            {
                var (result, summary) = protocol switch
                {
                    ProxyProtocol.HttpConnect or ProxyProtocol.HttpsConnect => await HttpConnectAsync(session, destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.HttpGet => await HttpRequestAsync(session, ProxyHandshake.HttpGet(destination.Host, destination.Port, "/portcullis-proxy-test"), "GET", destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.HttpPost or ProxyProtocol.HttpsPost => await HttpRequestAsync(session, ProxyHandshake.HttpPost(destination.Host, destination.Port), "POST", destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.Socks4 => await Socks4Async(session, destination, false, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.Socks4a => await Socks4Async(session, destination, true, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.Socks5 => await Socks5Async(session, destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.Wingate => await GatewayAsync(session, ProxyHandshake.Wingate(destination.Host, destination.Port), destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.TelnetGateway => await GatewayAsync(session, ProxyHandshake.TelnetGateway(destination.Host, destination.Port), destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.SshBanner => await SshBannerAsync(session, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.CiscoRouter => await CiscoRouterAsync(session, destination, timeouts, ct).ConfigureAwait(false),
                    ProxyProtocol.Dreambox => await DreamboxAsync(session, destination, timeouts, ct).ConfigureAwait(false),
                    _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
                };
                if (result == ProbeResult.Proven)
                {
                    await session.TryQuitAsync().ConfigureAwait(false);
                }
                return Outcome(protocol, proxy, destination, result, summary, transcript) with { FirstReply = session.FirstReplyAfter };
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                var code = (e as System.Net.Sockets.SocketException ?? e.InnerException as System.Net.Sockets.SocketException)?.SocketErrorCode.ToString() ?? e.Message;
                transcript.Note("socket error: " + code);
                return Outcome(protocol, proxy, destination, ProbeResult.ConnectionClosed, $"the connection failed while sending ({code})", transcript);
            }
        }
    }

    private static ProbeOutcome Outcome(ProxyProtocol p, IPEndPoint proxy, ProbeDestination d, ProbeResult r, string summary, ProbeTranscript t) =>
        new(p, proxy.Port, d.Describe, r, summary, t.ToString());

    private static (ProbeResult, string) Silent(ProbeSession.Stop stop, string what) => stop switch
    {
        ProbeSession.Stop.Timeout => (ProbeResult.NoAnswer, $"no answer to {what}"),
        _ => (ProbeResult.ConnectionClosed, $"the port closed the connection without answering {what}"),
    };

    private static string Text(ReadOnlySpan<byte> data) => Encoding.Latin1.GetString(data);

    private static string FirstLine(ReadOnlySpan<byte> data)
    {
        var text = Text(data[..Math.Min(data.Length, 200)]);
        var nl = text.IndexOf('\n', StringComparison.Ordinal);
        return (nl >= 0 ? text[..nl] : text).TrimEnd('\r');
    }

    /// <summary>After a grant: read the tunnel and look for the destination's proof.</summary>
    private static async Task<(ProbeResult, string)> ProveAsync(ProbeSession s, int from, string grant, ProbeDestination d, bool firstLineOnly, ProbeTimeouts t, CancellationToken ct)
    {
        var stop = await s.ReadUntilAsync(from, m => d.Seen(Text(m.Span), firstLineOnly), t.Proof, false, ct).ConfigureAwait(false);
        var relayed = Text(s.Received[from..]);
        if (d.Prove(relayed, firstLineOnly) is { } proof)
        {
            return (ProbeResult.Proven, $"OPEN: {grant}, then {proof}");
        }
        var instead = relayed.Length == 0
            ? stop == ProbeSession.Stop.Timeout ? "nothing came through" : "the proxy closed the tunnel"
            : $"what came through was not from the {d.Describe}: \"{FirstLine(s.Received[from..])}\"";
        return (ProbeResult.GrantedNoConnect, $"grants but did not connect: {grant}, but {instead}");
    }

    private static async Task<(ProbeResult, string)> HttpConnectAsync(ProbeSession s, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        await s.SendAsync(ProxyHandshake.HttpConnect(d.Host, d.Port), false, ct).ConfigureAwait(false);
        // libopm: the extra CRLF is a separate send, for MikroTik's HttpProxy.
        await s.SendAsync(ProxyHandshake.MikroTikExtraLine.ToArray(), false, ct).ConfigureAwait(false);
        var stop = await s.ReadUntilAsync(0, m => ProxyReplies.TryParseHttpHead(m.Span, out _, out var notHttp) || notHttp, t.Reply, false, ct).ConfigureAwait(false);
        if (s.ReceivedCount == 0)
        {
            return Silent(stop, "CONNECT");
        }
        if (!ProxyReplies.TryParseHttpHead(s.Received, out var head, out _))
        {
            return (ProbeResult.OtherProtocol, $"not an HTTP proxy reply to CONNECT: \"{FirstLine(s.Received)}\"");
        }
        return head.Code switch
        {
            407 => (ProbeResult.AuthRequired, $"CONNECT needs proxy authentication: \"{head.StatusLine}\""),
            >= 200 and < 300 => await ProveAsync(s, head.BodyOffset, $"CONNECT {d.Authority} was granted (\"{head.StatusLine}\")", d, true, t, ct).ConfigureAwait(false),
            _ => (ProbeResult.Refused, $"CONNECT {d.Authority} refused: \"{head.StatusLine}\""),
        };
    }

    /// <summary>GET or POST with an absolute URI: the proxy fetches from the destination and returns its answer.</summary>
    private static async Task<(ProbeResult, string)> HttpRequestAsync(ProbeSession s, byte[] request, string method, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        await s.SendAsync(request, false, ct).ConfigureAwait(false);
        // Two steps, each with its own time: the proxy's reply head (Reply), then, after a 200, the page
        // through it (Proof). A proxy that answers "200" at once and never relays anything ("grants but
        // did not connect") is thus judged after Proof, not after Reply + Proof.
        var stop = await s.ReadUntilAsync(0, m => ProxyReplies.TryParseHttpHead(m.Span, out _, out var notHttp) || notHttp, t.Reply, false, ct).ConfigureAwait(false);
        if (ProxyReplies.TryParseHttpHead(s.Received, out var granted, out _) && granted.Code == 200)
        {
            await s.ReadUntilAsync(0, m => d.Seen(Text(m.Span[granted.BodyOffset..]), false), t.Proof, false, ct).ConfigureAwait(false);
        }
        if (s.ReceivedCount == 0)
        {
            return Silent(stop, method);
        }
        if (!ProxyReplies.TryParseHttpHead(s.Received, out var head, out _))
        {
            return (ProbeResult.OtherProtocol, $"not an HTTP reply to {method}: \"{FirstLine(s.Received)}\"");
        }
        if (head.Code == 407)
        {
            return (ProbeResult.AuthRequired, $"{method} needs proxy authentication: \"{head.StatusLine}\"");
        }
        if (head.Code != 200)
        {
            // Text inside an error page never counts (issue 5), so the body is not even looked at.
            return (ProbeResult.Refused, $"{method} http://{d.Authority}/ refused: \"{head.StatusLine}\"");
        }
        var all = Text(s.Received);
        var headersAndBody = all[(all.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        var body = Text(s.Received[head.BodyOffset..]);
        // The canary's token may be in a header or the body; a mail server's greeting must open the body.
        var proof = d is ThroughToDestination ? d.Prove(body, true) : d.Prove(headersAndBody, false);
        if (proof is not null)
        {
            return (ProbeResult.Proven, $"OPEN: {method} http://{d.Authority}/ answered \"{head.StatusLine}\" and {proof}");
        }
        var first = FirstLine(s.Received[head.BodyOffset..]);
        return (ProbeResult.GrantedNoConnect, $"grants but did not connect: {method} got \"{head.StatusLine}\" but the page is not from the {d.Describe}{(first.Length > 0 ? $" (\"{first}\")" : "")}");
    }

    private static async Task<(ProbeResult, string)> Socks4Async(ProbeSession s, ProbeDestination d, bool byName, ProbeTimeouts t, CancellationToken ct)
    {
        byte[] request;
        if (byName)
        {
            request = ProxyHandshake.Socks4a(d.Host, d.Port);
        }
        else if (d.Ipv4 is { } ip)
        {
            request = ProxyHandshake.Socks4(ip, d.Port);
        }
        else
        {
            return (ProbeResult.NoAnswer, $"SOCKS4 not tried: {d.Describe} has no IPv4 address");
        }
        var what = byName ? "SOCKS4a" : "SOCKS4";
        await s.SendAsync(request, true, ct).ConfigureAwait(false);
        var stop = await s.ReadUntilAsync(0, m => ProxyReplies.TryParseSocks4(m.Span, out _, out var not) || not, t.Reply, true, ct).ConfigureAwait(false);
        if (s.ReceivedCount == 0)
        {
            return Silent(stop, what);
        }
        if (!ProxyReplies.TryParseSocks4(s.Received, out var reply, out _))
        {
            return (ProbeResult.OtherProtocol, $"not a {what} reply: [{Convert.ToHexString(s.Received[..Math.Min(8, s.ReceivedCount)])}]");
        }
        var code = $"0x{reply.Code:X2} {reply.Meaning}";
        if (!reply.Granted)
        {
            return (ProbeResult.Refused, $"{what} CONNECT {d.Authority} refused: {code}");
        }
        return await ProveAsync(s, 8, $"{what} CONNECT {d.Authority} was granted ({code})", d, true, t, ct).ConfigureAwait(false);
    }

    private static async Task<(ProbeResult, string)> Socks5Async(ProbeSession s, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        await s.SendAsync(ProxyHandshake.Socks5Greeting.ToArray(), true, ct).ConfigureAwait(false);
        var stop = await s.ReadUntilAsync(0, m => ProxyReplies.TryParseSocks5Method(m.Span, out _, out var not) || not, t.Reply, true, ct).ConfigureAwait(false);
        if (s.ReceivedCount == 0)
        {
            return Silent(stop, "the SOCKS5 greeting");
        }
        if (!ProxyReplies.TryParseSocks5Method(s.Received, out var method, out _))
        {
            return (ProbeResult.OtherProtocol, $"not a SOCKS5 reply: [{Convert.ToHexString(s.Received[..Math.Min(8, s.ReceivedCount)])}]");
        }
        if (method != 0x00)
        {
            // RFC 1928 §3: 05 02 = username/password, 05 FF = none of the offered methods.
            return (ProbeResult.AuthRequired, $"SOCKS5 demands authentication: 05 {method:X2} ({ProxyReplies.Socks5MethodMeaning(method)})");
        }
        await s.SendAsync(ProxyHandshake.Socks5Connect(d.Host, d.Port), true, ct).ConfigureAwait(false);
        var length = 0;
        stop = await s.ReadUntilAsync(2, m => ProxyReplies.TryParseSocks5Reply(m.Span, out _, out length, out var not) || not, t.Reply, true, ct).ConfigureAwait(false);
        if (s.ReceivedCount == 2)
        {
            var (r, text) = Silent(stop, "the SOCKS5 CONNECT");
            return (r == ProbeResult.NoAnswer ? ProbeResult.NoAnswer : ProbeResult.Refused, "SOCKS5 accepted no-auth, then " + text);
        }
        if (!ProxyReplies.TryParseSocks5Reply(s.Received[2..], out var rep, out length, out _))
        {
            return (ProbeResult.OtherProtocol, $"not a SOCKS5 CONNECT reply: [{Convert.ToHexString(s.Received[2..Math.Min(12, s.ReceivedCount)])}]");
        }
        if (rep != 0x00)
        {
            return (ProbeResult.Refused, $"SOCKS5 CONNECT {d.Authority} refused: REP 0x{rep:X2} ({ProxyReplies.Socks5ReplyMeaning(rep)})");
        }
        return await ProveAsync(s, 2 + length, $"SOCKS5 (no authentication, 05 00) CONNECT {d.Authority} was granted (REP 00)", d, true, t, ct).ConfigureAwait(false);
    }

    /// <summary>WinGate and telnet gateways: wait for the prompt, type the target, look for the proof in any following line.</summary>
    private static async Task<(ProbeResult, string)> GatewayAsync(ProbeSession s, byte[] line, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        await s.ReadUntilAsync(0, m => m.Span.IndexOfAny((byte)'>', (byte)'\n', (byte)':') >= 0, t.Prompt, false, ct).ConfigureAwait(false);
        var prompt = Text(s.Received);
        if (LooksLikePasswordPrompt(prompt))
        {
            return (ProbeResult.AuthRequired, $"the gateway asks for a password: \"{prompt.Trim()}\"");
        }
        if (prompt.Length >= 4 && char.IsAsciiDigit(prompt[0]) && char.IsAsciiDigit(prompt[1]) && char.IsAsciiDigit(prompt[2]))
        {
            return (ProbeResult.OtherProtocol, $"a numeric-reply server (SMTP/FTP style), not a gateway: \"{FirstLine(s.Received)}\"");
        }
        var from = s.ReceivedCount;
        await s.SendAsync(line, false, ct).ConfigureAwait(false);
        // First the gateway's answer to the typed line (Reply: a gateway says "Connecting...", or relays the
        // destination's greeting at once), then, once it has said something, the proof (Proof). Silence
        // ends after Reply. An answer in another protocol (an HTTP status line, SOCKS bytes) ends the wait at
        // once: it is not a gateway, whatever follows (an HTTP proxy on this port is judged by the HTTP
        // protocols' own probes).
        bool Settled(ReadOnlyMemory<byte> m) => d.Seen(Text(m.Span), false) || IsOtherProtocol(Text(m.Span));
        var stop = await s.ReadUntilAsync(from, m => m.Length > 0, t.Reply, false, ct).ConfigureAwait(false);
        if (s.ReceivedCount > from)
        {
            stop = await s.ReadUntilAsync(from, Settled, t.Proof, false, ct).ConfigureAwait(false);
        }
        var after = Text(s.Received[from..]);
        var typed = Encoding.ASCII.GetString(line).TrimEnd();
        if (d.Prove(after, false) is { } proof)
        {
            return (ProbeResult.Proven, $"OPEN: typed \"{typed}\" at the prompt \"{prompt.Trim()}\", then {proof}");
        }
        if (after.Length == 0)
        {
            var (r, text) = Silent(stop, $"\"{typed}\"");
            return from == 0 ? (r, text) : (r == ProbeResult.NoAnswer ? ProbeResult.Refused : r, $"prompt \"{prompt.Trim()}\", then {text}");
        }
        if (IsOtherProtocol(after))
        {
            return (ProbeResult.OtherProtocol, $"not a gateway: \"{FirstLine(s.Received[from..])}\"");
        }
        if (LooksLikePasswordPrompt(after))
        {
            return (ProbeResult.AuthRequired, $"the gateway asks for a password: \"{after.Trim()}\"");
        }
        if (after.Contains("Connected", StringComparison.OrdinalIgnoreCase))
        {
            return (ProbeResult.GrantedNoConnect, $"grants but did not connect: the gateway said \"{FirstLine(s.Received[from..])}\" but nothing from the {d.Describe} came through");
        }
        return (ProbeResult.Refused, $"the gateway refused \"{typed}\": \"{FirstLine(s.Received[from..])}\"");
    }

    /// <summary>What a gateway never answers to a typed line: an HTTP status line or a SOCKS reply's first byte.</summary>
    private static bool IsOtherProtocol(string after) =>
        after.StartsWith("HTTP/", StringComparison.Ordinal) || (after.Length > 0 && after[0] is '\x00' or '\x04' or '\x05');

    /// <summary>HOPM's "ssh" scanner: send nothing, read the identification line (RFC 4253 §4.2), compare it with the list.</summary>
    private static async Task<(ProbeResult, string)> SshBannerAsync(ProbeSession s, ProbeTimeouts t, CancellationToken ct)
    {
        var stop = await s.ReadUntilAsync(0, m => m.Span.IndexOf((byte)'\n') >= 0, t.Reply, false, ct).ConfigureAwait(false);
        if (s.ReceivedCount == 0)
        {
            return Silent(stop, "an SSH client's silence (no banner)");
        }
        // RFC 4253 §4.2: the server may send other lines before the one starting "SSH-".
        var line = Text(s.Received).Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith("SSH-", StringComparison.Ordinal));
        if (line is null)
        {
            return (ProbeResult.OtherProtocol, $"not an SSH server: \"{FirstLine(s.Received)}\"");
        }
        return SshBanners.Listed(line) is { } listed
            ? (ProbeResult.Suspect, $"SSH banner \"{line}\" is on HOPM's list of abused versions ({listed}); not proven: proof would mean logging in with default credentials, which Portcullis never tries")
            : (ProbeResult.Refused, $"SSH banner \"{line}\" is not on HOPM's list of abused versions");
    }

    private static bool HasPasswordPrompt(string text) => text.Contains("Password:", StringComparison.OrdinalIgnoreCase);

    /// <summary>A command prompt: the last non-blank character is '>' (Cisco user mode), '#' or '$' (a shell).</summary>
    private static bool EndsWithCommandPrompt(string text)
    {
        var t = text.TrimEnd();
        return t.Length > 0 && t[^1] is '>' or '#' or '$';
    }

    /// <summary>
    /// HOPM's ROUTER (catalog §5.2): at a Cisco "User Access Verification / Password:" prompt, type the factory
    /// password "cisco", then at the router's prompt "telnet IP PORT", and look for the proof. Only run when
    /// the user asked for the password-trying types (written authorisation).
    /// </summary>
    private static async Task<(ProbeResult, string)> CiscoRouterAsync(ProbeSession s, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        var stop = await s.ReadUntilAsync(0, m => HasPasswordPrompt(Text(m.Span)), t.Reply, false, ct).ConfigureAwait(false);
        if (!HasPasswordPrompt(Text(s.Received)))
        {
            return s.ReceivedCount == 0 ? Silent(stop, "a telnet client (no password prompt)") : (ProbeResult.OtherProtocol, $"no Cisco password prompt: \"{FirstLine(s.Received)}\"");
        }
        var from = s.ReceivedCount;
        await s.SendAsync(ProxyHandshake.CiscoPassword.ToArray(), false, ct).ConfigureAwait(false);
        await s.ReadUntilAsync(from, m => HasPasswordPrompt(Text(m.Span)) || EndsWithCommandPrompt(Text(m.Span)) || Text(m.Span).Contains('%', StringComparison.Ordinal), t.Reply, false, ct).ConfigureAwait(false);
        var after = Text(s.Received[from..]);
        if (!EndsWithCommandPrompt(after))
        {
            return (ProbeResult.AuthRequired, $"the factory password \"cisco\" was refused{(after.Trim().Length > 0 ? $": \"{after.Trim()}\"" : "")}");
        }
        return await TypeWayOutAsync(s, d, $"the factory password \"cisco\" gave the prompt \"{after.Trim()}\"", t, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// HOPM's DREAMBOX (catalog §5.2): log in as root/dreambox, then "telnet IP PORT" (and "nc IP PORT" when the
    /// shell has no telnet), and look for the proof. Only with the user's written authorisation.
    /// </summary>
    private static async Task<(ProbeResult, string)> DreamboxAsync(ProbeSession s, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        var stop = await s.ReadUntilAsync(0, m => Text(m.Span).Contains("login:", StringComparison.OrdinalIgnoreCase), t.Reply, false, ct).ConfigureAwait(false);
        if (!Text(s.Received).Contains("login:", StringComparison.OrdinalIgnoreCase))
        {
            return s.ReceivedCount == 0 ? Silent(stop, "a telnet client (no login prompt)") : (ProbeResult.OtherProtocol, $"no login prompt: \"{FirstLine(s.Received)}\"");
        }
        var from = s.ReceivedCount;
        await s.SendAsync(ProxyHandshake.DreamboxUser.ToArray(), false, ct).ConfigureAwait(false);
        await s.ReadUntilAsync(from, m => HasPasswordPrompt(Text(m.Span)) || EndsWithCommandPrompt(Text(m.Span)), t.Reply, false, ct).ConfigureAwait(false);
        if (HasPasswordPrompt(Text(s.Received[from..])))
        {
            from = s.ReceivedCount;
            await s.SendAsync(ProxyHandshake.DreamboxPassword.ToArray(), false, ct).ConfigureAwait(false);
            await s.ReadUntilAsync(from, m => EndsWithCommandPrompt(Text(m.Span)) || Text(m.Span).Contains("incorrect", StringComparison.OrdinalIgnoreCase) || Text(m.Span).Contains("login:", StringComparison.OrdinalIgnoreCase), t.Reply, false, ct).ConfigureAwait(false);
        }
        var after = Text(s.Received[from..]);
        if (!EndsWithCommandPrompt(after))
        {
            return (ProbeResult.AuthRequired, $"the factory login root/dreambox was refused{(after.Trim().Length > 0 ? $": \"{after.Trim()}\"" : "")}");
        }
        return await TypeWayOutAsync(s, d, $"the factory login root/dreambox gave the shell prompt \"{after.Trim()}\"", t, ct, netcat: true).ConfigureAwait(false);
    }

    /// <summary>At a router's or shell's prompt: "telnet host port" (then "nc host port" if asked and telnet is missing), and the proof.</summary>
    private static async Task<(ProbeResult, string)> TypeWayOutAsync(ProbeSession s, ProbeDestination d, string loggedIn, ProbeTimeouts t, CancellationToken ct, bool netcat = false)
    {
        var from = s.ReceivedCount;
        var lines = new List<byte[]> { ProxyHandshake.TelnetGateway(d.Host, d.Port) };
        if (netcat)
        {
            lines.Add(ProxyHandshake.Netcat(d.Host, d.Port));
        }
        foreach (var line in lines)
        {
            var lineFrom = s.ReceivedCount;
            await s.SendAsync(line, false, ct).ConfigureAwait(false);
            await s.ReadUntilAsync(lineFrom, m => d.Seen(Text(m.Span), false) || EndsWithCommandPrompt(Text(m.Span)), t.Reply + t.Proof, false, ct).ConfigureAwait(false);
            var typed = Encoding.ASCII.GetString(line).TrimEnd();
            if (d.Prove(Text(s.Received[lineFrom..]), false) is { } proof)
            {
                return (ProbeResult.Proven, $"OPEN: {loggedIn}, then \"{typed}\" and {proof}");
            }
        }
        var said = FirstLine(s.Received[from..]);
        // The factory password worked: the device is wide open even though this way out brought no proof.
        return (ProbeResult.Suspect, $"{loggedIn} (factory credentials work), but \"telnet {d.Authority}\" brought nothing from the {d.Describe}{(said.Length > 0 ? $" (\"{said}\")" : "")}");
    }

    private static bool LooksLikePasswordPrompt(string text) =>
        text.Contains("Password:", StringComparison.OrdinalIgnoreCase) ||
        text.Contains("User Access Verification", StringComparison.OrdinalIgnoreCase) ||
        text.TrimEnd().EndsWith("login:", StringComparison.OrdinalIgnoreCase);
}
