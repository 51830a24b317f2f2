using System.Net.Security;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>STARTTLS offered, certificate problems, STARTTLS command injection (catalog §3.1) and AUTH before TLS (§4).</summary>
public static class TlsChecks
{
    public static Finding StartTlsOffered(SmtpEndpoint ep, EhloReply ehlo, string evidence)
    {
        if (ep.ImplicitTls)
        {
            return new("tls.offered", "TLS offered", CheckStatus.Pass, Severity.Medium, "implicit TLS (RFC 8314)", null, null, ep.Port);
        }
        return ehlo.Has("STARTTLS")
            ? new("tls.offered", "STARTTLS offered", CheckStatus.Pass, Severity.Medium, "EHLO advertises STARTTLS", null, null, ep.Port)
            : new("tls.offered", "STARTTLS offered", CheckStatus.Fail, Severity.Medium, "EHLO does not advertise STARTTLS: mail to this server travels in clear", evidence, FixTopic.StartTlsMissing, ep.Port, "RFC 3207");
    }

    /// <summary>Certificate problems are warnings (issue 4): reported, but they do not fail the audit.</summary>
    public static Finding Certificate(SmtpProbe tlsProbe)
    {
        var cert = tlsProbe.Certificate;
        var port = tlsProbe.Endpoint.Port;
        if (cert is null)
        {
            return new("tls.certificate", "TLS certificate", CheckStatus.Inconclusive, Severity.Low, "no certificate seen", null, null, port);
        }
        var problems = new List<string>();
        var now = DateTime.UtcNow;
        if (cert.NotAfter.ToUniversalTime() < now)
        {
            problems.Add($"expired {cert.NotAfter:yyyy-MM-dd}");
        }
        if (cert.NotBefore.ToUniversalTime() > now)
        {
            problems.Add($"not valid before {cert.NotBefore:yyyy-MM-dd}");
        }
        if (cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData))
        {
            problems.Add("self-signed");
        }
        else if (tlsProbe.CertificateErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            problems.Add("not issued by a trusted CA");
        }
        if (tlsProbe.CertificateErrors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            problems.Add($"name mismatch (certificate is for {cert.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false)}, connected to {tlsProbe.Endpoint.Name})");
        }
        var detail = $"subject {cert.Subject}, issuer {cert.Issuer}, valid {cert.NotBefore:yyyy-MM-dd} to {cert.NotAfter:yyyy-MM-dd}, {tlsProbe.TlsProtocol}";
        return problems.Count == 0
            ? new("tls.certificate", "TLS certificate", CheckStatus.Pass, Severity.Low, "valid: " + detail, null, null, port)
            : new("tls.certificate", "TLS certificate", CheckStatus.Pass, Severity.Low, "warning: " + string.Join(", ", problems) + " (" + detail + ")", null, FixTopic.Certificate, port);
    }

    /// <summary>
    /// Catalog §3.1 tests A and B: "STARTTLS\r\nNOOP\r\n" in one write. A conforming server answers only the
    /// 220 and then waits for the TLS handshake; any answer to the NOOP (in clear after the 220, or inside TLS
    /// before we sent anything) means it ran a command injected in plaintext (CVE-2011-0411).
    /// </summary>
    public static async Task<Finding> InjectionAsync(SessionOpener opener, CancellationToken ct)
    {
        const string id = "tls.starttls-injection";
        const string title = "STARTTLS command injection";
        var port = opener.Endpoint.Port;
        var t = new Transcript();
        OpenSession? s = null;
        try
        {
            s = await opener.OpenAsync(t, startTls: false, ct).ConfigureAwait(false);
            if (!s.Ehlo.Has("STARTTLS"))
            {
                return Finding.Skipped(id, title, "STARTTLS not offered", port);
            }
            await s.Probe.SendRawAsync("STARTTLS\r\nNOOP\r\n", ct).ConfigureAwait(false);
            var r = await s.Probe.ReadReplyAsync(ct).ConfigureAwait(false);
            if (r.Code != 220)
            {
                return new(id, title, CheckStatus.Pass, Severity.High, "STARTTLS with a pipelined command was refused: " + r, t.ToString(), null, port, "catalog §3.1");
            }
            if (s.Probe.HasUnreadBytes)
            {
                var extra = await s.Probe.TryReadReplyAsync(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
                return new(id, title, CheckStatus.Fail, Severity.High, "answered the injected NOOP in plaintext after the 220: " + extra, t.ToString(), FixTopic.StartTlsInjection, port, "catalog §3.1 test B");
            }
            try
            {
                await s.Probe.UpgradeToTlsAsync(ct).ConfigureAwait(false);
            }
            catch (ProbeLostException e)
            {
                return new(id, title, CheckStatus.Pass, Severity.High, "the server dropped the session after the injected command (" + e.Message + ")", t.ToString(), null, port, "catalog §3.1");
            }
            var injected = await s.Probe.TryReadReplyAsync(TimeSpan.FromMilliseconds(1500), ct).ConfigureAwait(false);
            if (injected is not null)
            {
                return new(id, title, CheckStatus.Fail, Severity.High, "inside TLS the server answered the NOOP sent in plaintext: " + injected, t.ToString(), FixTopic.StartTlsInjection, port, "catalog §3.1 test A (CVE-2011-0411)");
            }
            var noop = await s.Probe.CommandAsync("NOOP", ct).ConfigureAwait(false);
            return new(id, title, CheckStatus.Pass, Severity.High, $"plaintext after STARTTLS was discarded (first reply inside TLS is to our own NOOP: {noop.Code})", t.ToString(), null, port, "catalog §3.1");
        }
        catch (ProbeLostException e)
        {
            return Finding.Lost(id, title, Severity.High, e, t, port, "catalog §3.1");
        }
        finally
        {
            if (s is not null)
            {
                await s.Probe.QuitAsync(ct).ConfigureAwait(false);
                await s.Probe.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Catalog §4: AUTH with plaintext mechanisms must not be offered before TLS (RFC 4954 §4).</summary>
    public static Finding AuthBeforeTls(SmtpEndpoint ep, EhloReply plainEhlo, string evidence)
    {
        const string id = "auth.before-tls";
        const string title = "AUTH offered before TLS";
        if (ep.ImplicitTls)
        {
            return Finding.Skipped(id, title, "implicit TLS port: there is no plaintext phase", ep.Port);
        }
        var mechs = plainEhlo.AuthMechanisms;
        var plain = mechs.Where(m => m is "PLAIN" or "LOGIN").ToList();
        return plain.Count > 0
            ? new(id, title, CheckStatus.Fail, Severity.Medium, $"AUTH {string.Join(" ", mechs)} offered without TLS: passwords can travel in clear", evidence, FixTopic.AuthBeforeTls, ep.Port, "catalog §4, RFC 4954 §4")
            : new(id, title, CheckStatus.Pass, Severity.Medium, mechs.Count == 0 ? "no AUTH before TLS" : $"only non-plaintext mechanisms before TLS: {string.Join(" ", mechs)}", null, null, ep.Port);
    }
}
