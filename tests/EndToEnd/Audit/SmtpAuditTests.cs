using System.Net;
using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>Tests that borrow the world sink's address (127.0.0.99:25) for the canary run one at a time.</summary>
[CollectionDefinition("smtp-audit-world", DisableParallelization = true)]
public sealed class SmtpAuditWorldCollection;

/// <summary>`portcullis audit smtp` against the real Postfix peers and two deliberately broken servers (issue 4).</summary>
[Collection("smtp-audit-world")]
public sealed class SmtpAuditTests
{
    private static async Task<(int Exit, JsonElement Report, string Stderr)> AuditJsonAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", "--json", .. args], timeout: TimeSpan.FromSeconds(150));
        JsonElement report;
        try
        {
            // With --json, standard output carries only the JSON document.
            report = JsonDocument.Parse(stdout).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not one JSON document ({e.Message}); exit {exit}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
        return (exit, report, stderr);
    }

    private static JsonElement Check(JsonElement report, string id) =>
        report.GetProperty("checks").EnumerateArray().FirstOrDefault(c => c.GetProperty("id").GetString() == id) is { ValueKind: JsonValueKind.Object } c
            ? c
            : throw new Xunit.Sdk.XunitException($"no check {id} in {report}");

    private static IEnumerable<JsonElement> RelayChecks(JsonElement report) =>
        report.GetProperty("checks").EnumerateArray().Where(c => c.GetProperty("id").GetString()!.StartsWith("relay.", StringComparison.Ordinal));

    private static string Status(JsonElement check) => check.GetProperty("status").GetString()!;

    [Fact]
    public async Task Open_postfix_is_reported_open_with_canary_proof()
    {
        await using var world = await RelayPeers.BorrowWorldAddressAsync();
        var (exit, r, stderr) = await AuditJsonAsync(RelayPeers.Open, "--canary-domain", "canary.test", "--canary-listen", "127.0.0.99:25", "--canary-wait", "8");
        Assert.True(exit == 1, stderr);
        Assert.Equal("open", r.GetProperty("verdict").GetString());
        Assert.Equal("Postfix", r.GetProperty("software").GetString());
        var plain = Check(r, "relay.nmap-02");
        Assert.Equal("fail", Status(plain));
        Assert.Contains("proven", plain.GetProperty("summary").GetString());
        Assert.Contains("canary received token", plain.GetProperty("evidence").GetString());
        Assert.Contains("smtpd_relay_restrictions", plain.GetProperty("fix").GetString());
    }

    [Fact]
    public async Task Stock_postfix_sends_a_success_notice_to_any_sender_and_the_canary_proves_it()
    {
        await using var world = await RelayPeers.BorrowWorldAddressAsync();
        var (_, r, stderr) = await AuditJsonAsync(RelayPeers.Closed, "--rcpt", "alice@closed.test", "--smuggling-wait", "0.3",
            "--canary-domain", "canary.test", "--canary-listen", "127.0.0.99:25", "--canary-wait", "8");
        // Closed for relaying, yet it mails a report carrying our headers to the sender we named.
        Assert.Equal("closed", r.GetProperty("verdict").GetString());
        var dsn = Check(r, "dsn.success-reflection");
        Assert.True(Status(dsn) == "fail", dsn.ToString() + "\n" + stderr);
        Assert.Contains("reached the canary sender", dsn.GetProperty("summary").GetString());
        Assert.Contains("canary received token", dsn.GetProperty("evidence").GetString());
        Assert.Contains("smtpd_discard_ehlo_keyword_address_maps", dsn.GetProperty("fix").GetString());
    }

    [Fact]
    public async Task Closed_postfix_is_reported_closed()
    {
        await RelayPeers.EnsureUpAsync();
        var (exit, r, stderr) = await AuditJsonAsync(RelayPeers.Closed);
        Assert.Equal("closed", r.GetProperty("verdict").GetString());
        var relay = RelayChecks(r).ToList();
        Assert.True(relay.Count >= 60, $"only {relay.Count} relay vectors");
        Assert.All(relay, c => Assert.Equal("pass", Status(c)));
        // Stock Postfix defers a foreign recipient with 454 4.7.1: a refusal of the relay, hence closed.
        Assert.Contains("454 4.7.1", Check(r, "relay.nmap-02").GetProperty("summary").GetString());
        // The closed peer has no TLS configured: a real failed check, so the exit code is 1, not 0.
        Assert.Equal("fail", Status(Check(r, "tls.offered")));
        Assert.True(exit == 1, stderr);
    }

    [Fact]
    public async Task Tricky_gateway_is_open_through_the_percent_hack()
    {
        await using var world = await RelayPeers.BorrowWorldAddressAsync();
        var (exit, r, stderr) = await AuditJsonAsync(RelayPeers.TrickyGateway, "--canary-domain", "canary.test", "--canary-listen", "127.0.0.99:25", "--canary-wait", "8");
        Assert.True(exit == 1, stderr);
        Assert.Equal("open", r.GetProperty("verdict").GetString());
        Assert.Contains("percent hack", r.GetProperty("verdictReason").GetString());
        // Plain relay is refused; the percent hack through the parent domain of gw.tricky.test is relayed.
        Assert.Equal("pass", Status(Check(r, "relay.nmap-02")));
        var percent = Check(r, "relay.nmap-06.tricky.test");
        Assert.Equal("fail", Status(percent));
        Assert.Contains("allow_untrusted_routing = no", percent.GetProperty("fix").GetString());
    }

    [Fact]
    public async Task Accept_all_server_that_drops_mail_is_not_proven_open()
    {
        await using var sink = SmtpFakeServer.AcceptAllAndDrop(new IPEndPoint(IPAddress.Parse("127.0.2.10"), 2525));
        var (exit, r, stderr) = await AuditJsonAsync(sink.Target, "--canary-domain", "canary.test", "--canary-listen", "127.0.2.11:2525", "--canary-wait", "3");
        Assert.Equal("inconclusive", r.GetProperty("verdict").GetString());
        Assert.Contains("delivery not seen", r.GetProperty("verdictReason").GetString());
        var plain = Check(r, "relay.nmap-02");
        Assert.Equal("inconclusive", Status(plain));
        Assert.Contains("accepts relay recipients, delivery not seen", plain.GetProperty("summary").GetString());
        Assert.DoesNotContain(RelayChecks(r), c => Status(c) == "fail");
        Assert.True(sink.MessagesTaken > 10, $"the sink took {sink.MessagesTaken} messages");
        Assert.True(exit is 1 or 3, stderr);
        // The same sloppy server runs commands sent before their turn and takes any address length.
        Assert.Equal("fail", Status(Check(r, "pipelining.discipline")));
        Assert.Contains("RFC 2920", Check(r, "pipelining.discipline").GetProperty("fix").GetString() + "", StringComparison.Ordinal);

        // The comparison that motivates the canary: nmap calls this server an open relay.
        var (_, nmap) = await RelayPeers.RunAsync("nmap", ["-n", "-Pn", "-p", "2525", "--script", "+smtp-open-relay", "127.0.2.10"], TimeSpan.FromSeconds(60));
        Assert.Contains("Server is an open relay", nmap);
    }

    [Fact]
    public async Task Server_ending_data_at_bare_lf_dot_lf_has_smuggling_found()
    {
        await using var lax = SmtpFakeServer.LaxEndOfData(new IPEndPoint(IPAddress.Parse("127.0.2.12"), 2525));
        var (exit, r, stderr) = await AuditJsonAsync(lax.Target, "--rcpt", "alice@fake.test", "--smuggling-wait", "1");
        Assert.True(exit == 1, stderr);
        var lflf = Check(r, "smuggling.lflf");
        Assert.Equal("fail", Status(lflf));
        Assert.Equal("high", lflf.GetProperty("severity").GetString());
        Assert.Contains("accepted as end of data", lflf.GetProperty("summary").GetString());
        Assert.Contains("\\n.\\n", lflf.GetProperty("evidence").GetString());
        // The real end of data still works and stores the other sequences inside the message.
        Assert.Equal("pass", Status(Check(r, "smuggling.lfcr")));
    }

    [Fact]
    public async Task Server_cutting_data_lines_at_998_octets_has_the_split_found_and_nul_header_accepted()
    {
        await using var splitter = SmtpFakeServer.SplitsLongLines(new IPEndPoint(IPAddress.Parse("127.0.2.16"), 2525));
        var (exit, r, stderr) = await AuditJsonAsync(splitter.Target, "--rcpt", "alice@fake.test", "--smuggling-wait", "0.3");
        Assert.True(exit == 1, stderr);
        var longData = Check(r, "line.long-data");
        Assert.Equal("fail", Status(longData));
        Assert.Equal("medium", longData.GetProperty("severity").GetString());
        Assert.Equal("split a 1001-octet text line: the cut-off \".\" ended the message (250) and the next body line was answered as a command (250)", longData.GetProperty("summary").GetString());
        Assert.Contains("S: 250 2.0.0 Ok", longData.GetProperty("evidence").GetString());
        Assert.Equal("fail", Status(Check(r, "data.nul")));
    }

    [Fact]
    public async Task Stock_postfix_3_7_ends_data_at_bare_lf_and_gets_the_postfix_fix()
    {
        // Postfix 3.7 takes a bare LF as a line end unless smtpd_forbid_bare_newline is set (CVE-2023-51764),
        // so "\n.\n" ends DATA; "\n.\r" is stored inside the message.
        await RelayPeers.EnsureUpAsync();
        var (_, r, _) = await AuditJsonAsync(RelayPeers.Closed, "--rcpt", "alice@closed.test", "--smuggling-wait", "1");
        var lflf = Check(r, "smuggling.lflf");
        Assert.Equal("fail", Status(lflf));
        Assert.Contains("smtpd_forbid_bare_newline", lflf.GetProperty("fix").GetString());
        var lfcr = Check(r, "smuggling.lfcr");
        Assert.Equal("pass", Status(lfcr));
        Assert.Contains("stored inside the message", lfcr.GetProperty("summary").GetString());
        Assert.Equal("pass", Status(Check(r, "rcpt.postmaster")));
        // Stock Postfix takes undeclared 8-bit data in the body and in the Subject alike (catalog §4).
        var eightBit = Check(r, "data.8bit-undeclared");
        Assert.Equal("pass", Status(eightBit));
        Assert.Contains("8-bit body without BODY=8BITMIME: accepted (250); 8-bit Subject without SMTPUTF8: accepted (250)", eightBit.GetProperty("summary").GetString());
        Assert.Contains("C: Subject: Portcullis 8-bit header test", eightBit.GetProperty("evidence").GetString());
        // Stock Postfix 3.7 takes a 1001-octet text line whole (line_length_limit = 2048): one 250, so a warning
        // with the Postfix fix; it also takes a NUL in the Subject with 250 (and stores the header cut at the NUL).
        var longData = Check(r, "line.long-data");
        Assert.Equal("pass", Status(longData));
        Assert.StartsWith("warning: accepted a 1001-octet text line (250)", longData.GetProperty("summary").GetString());
        Assert.Contains("smtp_line_length_limit", longData.GetProperty("fix").GetString());
        var nul = Check(r, "data.nul");
        Assert.Equal("fail", Status(nul));
        Assert.Equal("low", nul.GetProperty("severity").GetString());
        Assert.StartsWith("accepted a NUL in the Subject (250)", nul.GetProperty("summary").GetString());
        Assert.Contains("C: Subject: Portcullis NUL header test\\x00 text after the NUL", nul.GetProperty("evidence").GetString());
        Assert.Contains("message_reject_characters = \\0", nul.GetProperty("fix").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("127.0.0.1 --canary-domain canary.test")]
    [InlineData("127.0.0.1 --no-such-option")]
    [InlineData("127.0.0.1 --ports 25,abc")]
    [InlineData("127.0.0.1 --canary-domain c.test --canary-listen nonsense")]
    public async Task Bad_arguments_exit_with_2_and_say_why(string commandLine)
    {
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", .. args], timeout: TimeSpan.FromSeconds(30));
        Assert.True(exit == 2, $"exit {exit}\nstdout:{stdout}\nstderr:{stderr}");
        Assert.False(string.IsNullOrWhiteSpace(stderr), "no message on standard error");
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Server_running_commands_injected_before_starttls_is_caught()
    {
        await using var vulnerable = SmtpFakeServer.StartTlsInjectable(new IPEndPoint(IPAddress.Parse("127.0.2.14"), 2525));
        var (exit, r, stderr) = await AuditJsonAsync(vulnerable.Target);
        Assert.True(exit == 1, stderr);
        var injection = Check(r, "tls.starttls-injection");
        Assert.Equal("fail", Status(injection));
        Assert.Contains("answered the NOOP sent in plaintext", injection.GetProperty("summary").GetString());
        Assert.Contains("C: STARTTLS", injection.GetProperty("evidence").GetString());
        // Its self-signed certificate is a warning, not a failure.
        var cert = Check(r, "tls.certificate");
        Assert.Equal("pass", Status(cert));
        Assert.Contains("warning: self-signed", cert.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_not_tested_and_inconclusive_never_closed()
    {
        var (exit, r, stderr) = await AuditJsonAsync("127.0.2.13:2599", "--connect-timeout", "1");
        Assert.True(exit == 3, stderr);
        Assert.Equal("inconclusive", r.GetProperty("verdict").GetString());
        Assert.StartsWith("not tested", Check(r, "connect").GetProperty("summary").GetString());
    }

    [Fact]
    public async Task Several_targets_give_a_json_array_in_the_order_given()
    {
        await RelayPeers.EnsureUpAsync();
        var (_, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", "--json", RelayPeers.Closed, "127.0.0.24"], timeout: TimeSpan.FromSeconds(120));
        var doc = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(JsonValueKind.Array, doc.ValueKind);
        Assert.Equal(["127.0.0.21:25", "127.0.0.24:25"], doc.EnumerateArray().Select(r => r.GetProperty("target").GetString()));
        Assert.Equal(["Postfix", "Exim 4.96"], doc.EnumerateArray().Select(r => r.GetProperty("software").GetString()));
        Assert.All(doc.EnumerateArray(), r => Assert.Equal("closed", r.GetProperty("verdict").GetString()));
    }

    [Fact]
    public async Task Text_report_names_software_verdict_and_fix()
    {
        await RelayPeers.EnsureUpAsync();
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", RelayPeers.Closed, "-v"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(exit == 1, stderr);
        Assert.Contains("Postfix", stdout);
        Assert.Contains("closed", stdout);
        Assert.Contains("Fix:", stdout);
        Assert.Contains("C: EHLO", stdout); // -v shows transcripts
        Assert.DoesNotContain("[audit smtp]", stdout); // progress goes to stderr
    }
}
