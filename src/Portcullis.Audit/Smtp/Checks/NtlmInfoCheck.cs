using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// Catalog §4 "NTLM info leak" (nmap smtp-ntlm-info.nse): when AUTH NTLM is offered (looked at after
/// STARTTLS when the server offers it, as a client would authenticate there), send "AUTH NTLM" and a
/// NEGOTIATE with null credentials, read what the CHALLENGE discloses (NetBIOS and DNS names of the host,
/// its domain and forest, the Windows build), then cancel with "*" (RFC 4954 §4). No credential is sent.
/// </summary>
public static class NtlmInfoCheck
{
    public const string Id = "auth.ntlm-info";
    private const string Title = "NTLM information leak";
    private const string Source = "catalog §4, MS-NLMP §2.2.1.2";

    public static Task<Finding> RunAsync(SessionOpener opener, bool startTls, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, startTls, t, async s =>
        {
            var where = s.Probe.IsTls ? (opener.Endpoint.ImplicitTls ? "over TLS" : "after STARTTLS") : "in clear";
            var mechs = s.Ehlo.AuthMechanisms;
            if (!mechs.Contains("NTLM"))
            {
                return new Finding(Id, Title, CheckStatus.Pass, Severity.Medium,
                    $"AUTH NTLM not offered {where}" + (mechs.Count == 0 ? " (no AUTH)" : $" (AUTH {string.Join(" ", mechs)})"), null, null, port, Source);
            }
            var mark = t.Mark();
            var auth = SessionOpener.NotClosing(await s.Probe.CommandAsync("AUTH NTLM", ct).ConfigureAwait(false));
            if (auth.Code != 334)
            {
                return new Finding(Id, Title, CheckStatus.Pass, Severity.Medium, $"AUTH NTLM is advertised {where} but refused: {auth}", t.Since(mark), null, port, Source);
            }
            var challenge = await s.Probe.CommandAsync(Convert.ToBase64String(NtlmMessages.Negotiate()), ct).ConfigureAwait(false);
            if (challenge.Code != 334)
            {
                return new Finding(Id, Title, CheckStatus.Pass, Severity.Medium, $"AUTH NTLM is advertised {where} but the NEGOTIATE got {challenge}", t.Since(mark), null, port, Source);
            }
            // Abort the exchange (RFC 4954 §4: "*" cancels; the server answers 501).
            await s.Probe.SendRawAsync("*\r\n", ct).ConfigureAwait(false);
            await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
            NtlmChallenge parsed;
            try
            {
                parsed = NtlmMessages.ParseChallenge(Convert.FromBase64String(string.Concat(challenge.Lines).Trim()));
            }
            catch (FormatException e)
            {
                return new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Medium, $"AUTH NTLM is offered {where}, but its 334 reply is not an NTLM CHALLENGE: {e.Message}", t.Since(mark), null, port, Source);
            }
            var disclosed = parsed.Disclosed;
            foreach (var d in disclosed)
            {
                t.Note("challenge: " + d);
            }
            return disclosed.Count > 0
                ? new Finding(Id, Title, CheckStatus.Fail, Severity.Medium,
                    $"AUTH NTLM {where} answers anyone with a CHALLENGE that discloses {string.Join(", ", disclosed)}", t.Since(mark), FixTopic.NtlmInfo, port, Source)
                : new Finding(Id, Title, CheckStatus.Pass, Severity.Medium,
                    $"warning: AUTH NTLM is offered {where}; its CHALLENGE discloses no names or version", t.Since(mark), FixTopic.NtlmInfo, port, Source);
        }, e => Finding.Lost(Id, Title, Severity.Medium, e, t, port, Source), ct);
    }
}
