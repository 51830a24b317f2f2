using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>Submission (587 STARTTLS, 465 implicit TLS): only authenticated users send, as themselves, within limits.</summary>
public sealed class SubmissionTests(SharedServer fixture) : IClassFixture<SharedServer>
{
    private readonly ServerInstance _server = fixture.Server;

    private static MimeMessage Message(string from, string to, string subject)
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = subject;
        m.Body = new TextPart("plain") { Text = "from a real mail client\n" };
        return m;
    }

    private async Task<SmtpClient> ClientAsync(int port, SecureSocketOptions tls)
    {
        var c = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await c.ConnectAsync(_server.Host, port, tls);
        return c;
    }

    [Theory]
    [InlineData(5587, SecureSocketOptions.StartTls, "PLAIN")]
    [InlineData(5587, SecureSocketOptions.StartTls, "LOGIN")]
    [InlineData(5587, SecureSocketOptions.StartTls, "SCRAM-SHA-256")]
    [InlineData(5465, SecureSocketOptions.SslOnConnect, "PLAIN")]
    [InlineData(5465, SecureSocketOptions.SslOnConnect, "SCRAM-SHA-256")]
    public async Task MailKit_authenticates_and_submits_to_a_local_user(int port, SecureSocketOptions tls, string mechanism)
    {
        var subject = $"submitted {mechanism} {port} {Guid.NewGuid()}";
        var before = _server.Messages("alice").Length;
        using (var client = await ClientAsync(port, tls))
        {
            Assert.Contains(mechanism, client.AuthenticationMechanisms);
            client.AuthenticationMechanisms.IntersectWith([mechanism]);
            await client.AuthenticateAsync("bob@example.test", "bob-password");
            await client.SendAsync(Message("bob@example.test", "alice@example.test", subject));
            await client.DisconnectAsync(true);
        }
        var files = await _server.WaitForMessagesAsync("alice", before + 1);
        var text = files.Select(File.ReadAllText).Single(t => t.Contains(subject, StringComparison.Ordinal));
        Assert.Contains("with ESMTPSA id", text);
        Assert.Contains("Return-Path: <bob@example.test>", text);
    }

    [Fact]
    public async Task Submission_adds_a_missing_date_and_message_id()
    {
        var subject = "no date " + Guid.NewGuid();
        var before = _server.Messages("alice").Length;
        await using var c = await SmtpWire.ConnectAsync(_server.Host, _server.SubmissionsPort, readGreeting: false);
        await c.StartTlsHandshakeAsync("mx.example.test");
        Assert.Equal(220, (await c.ReadAsync()).Code);
        await c.CommandAsync("EHLO client.example.test");
        Assert.Equal(235, (await c.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("\0bob@example.test\0bob-password"u8.ToArray()))).Code);
        var r = await c.SendMessageAsync("bob@example.test", ["alice@example.test"], $"From: bob@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n");
        Assert.Equal(250, r.Code);
        var files = await _server.WaitForMessagesAsync("alice", before + 1);
        var parsed = MimeMessage.Load(files.Single(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal)));
        Assert.False(string.IsNullOrEmpty(parsed.MessageId));
        Assert.True(parsed.Date > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    /// <summary>MailKit asking for DSNs the way a mail client does (RFC 3461): NOTIFY per recipient, ENVID and RET per message.</summary>
    private sealed class DsnClient(string envelopeId) : SmtpClient
    {
        protected override string GetEnvelopeId(MimeMessage message) => envelopeId;

        protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) =>
            DeliveryStatusNotification.Success | DeliveryStatusNotification.Failure;
    }

    [Fact]
    public async Task MailKit_asking_for_a_success_notice_gets_a_delivered_report_with_its_envelope_id()
    {
        var subject = "notify " + Guid.NewGuid();
        var (alice, bob) = (_server.Messages("alice").Length, _server.Messages("bob").Length);
        using (var client = new DsnClient("e2e+notify") { ServerCertificateValidationCallback = (_, _, _, _) => true })
        {
            await client.ConnectAsync(_server.Host, _server.SubmissionPort, SecureSocketOptions.StartTls);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Dsn), "submission does not advertise DSN");
            await client.AuthenticateAsync("bob@example.test", "bob-password");
            client.DeliveryStatusNotificationType = DeliveryStatusNotificationType.Full;
            await client.SendAsync(Message("bob@example.test", "alice@example.test", subject));
            await client.DisconnectAsync(true);
        }
        Assert.Contains(await _server.WaitForMessagesAsync("alice", alice + 1), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        var notices = await _server.WaitForMessagesAsync("bob", bob + 1);
        var file = notices.Single(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        var notice = MimeMessage.Load(file);
        Assert.Equal("Successful Mail Delivery Report", notice.Subject);
        var report = Assert.IsType<MultipartReport>(notice.Body);
        var groups = Assert.Single(report.OfType<MessageDeliveryStatus>()).StatusGroups.Where(g => g.Count > 0).ToList();
        // MailKit sent ENVID=e2e+2Bnotify (xtext, RFC 3461 §4): the report shows what it stands for.
        Assert.Equal("e2e+notify", groups[0]["Original-Envelope-Id"]);
        Assert.Equal("rfc822;alice@example.test", groups[1]["Original-Recipient"]);
        Assert.Equal("rfc822; alice@example.test", groups[1]["Final-Recipient"]);
        Assert.Equal("delivered", groups[1]["Action"]);
        Assert.Equal("2.0.0", groups[1]["Status"]);
        // RET=FULL is about failure notices: a success notice returns the headers only.
        Assert.Single(report.OfType<TextRfc822Headers>());
        Assert.DoesNotContain("from a real mail client", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_orcpt_in_xtext_is_reported_as_the_address_it_stands_for()
    {
        var subject = "orcpt " + Guid.NewGuid();
        var bob = _server.Messages("bob").Length;
        await using (var c = await SmtpWire.ConnectAsync(_server.Host, _server.SubmissionsPort, readGreeting: false))
        {
            await c.StartTlsHandshakeAsync("mx.example.test");
            Assert.Equal(220, (await c.ReadAsync()).Code);
            Assert.Contains("DSN", (await c.CommandAsync("EHLO client.example.test")).Lines);
            Assert.Equal(235, (await c.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("\0bob@example.test\0bob-password"u8.ToArray()))).Code);
            Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<bob@example.test> ENVID=orcpt-test")).Code);
            Assert.Equal(250, (await c.CommandAsync("RCPT TO:<sales@example.test> NOTIFY=SUCCESS ORCPT=rfc822;sales+2Bteam@example.test")).Code);
            Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
            Assert.Equal(250, (await c.CommandAsync($"From: bob@example.test\r\nSubject: {subject}\r\n\r\nbody\r\n.")).Code);
        }
        var notices = await _server.WaitForMessagesAsync("bob", bob + 1);
        var notice = MimeMessage.Load(notices.Single(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal)));
        var groups = Assert.Single(Assert.IsType<MultipartReport>(notice.Body).OfType<MessageDeliveryStatus>()).StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal("rfc822;sales+team@example.test", groups[1]["Original-Recipient"]);
        // The alias resolved to alice's mailbox: that is where the copy was delivered.
        Assert.Equal("rfc822; alice@example.test", groups[1]["Final-Recipient"]);
    }

    [Fact]
    public async Task Auth_is_not_offered_before_tls_and_is_refused_538_there()
    {
        await using var c = await SmtpWire.ConnectAsync(_server.Host, _server.SubmissionPort);
        var ehlo = await c.CommandAsync("EHLO client.example.test");
        Assert.DoesNotContain(ehlo.Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        // catalog §4: AUTH PLAIN \0invalid\0invalid before TLS must not even be checked.
        var r = await c.CommandAsync("AUTH PLAIN AGludmFsaWQAaW52YWxpZA==");
        Assert.Equal("538 5.7.11", $"{r.Code} {r.Enhanced}");
        var mail = await c.CommandAsync("MAIL FROM:<bob@example.test>");
        Assert.Equal("530 5.7.0", $"{mail.Code} {mail.Enhanced}");
    }

    [Fact]
    public async Task Mail_without_auth_on_submission_gets_530_5_7_0()
    {
        using var client = await ClientAsync(_server.SubmissionPort, SecureSocketOptions.StartTls);
        var e = await Assert.ThrowsAsync<ServiceNotAuthenticatedException>(() => client.SendAsync(Message("bob@example.test", "someone@remote.example", "no auth")));
        Assert.StartsWith("5.7.0 Authentication required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticated_user_may_send_to_another_domain()
    {
        using var client = await ClientAsync(_server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("bob@example.test", "bob-password");
        // Accepted into the queue for remote delivery (delivery itself is tested with a remote MX elsewhere).
        await client.SendAsync(Message("bob@example.test", "friend@remote.example", "outbound " + Guid.NewGuid()));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task Sending_as_someone_else_is_refused_553_5_7_1_in_the_envelope_and_in_from()
    {
        using var client = await ClientAsync(_server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("bob@example.test", "bob-password");
        var envelope = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("alice@example.test", "friend@remote.example", "forged")));
        Assert.Equal(553, (int)envelope.StatusCode);
        // Envelope is bob's own address but the From: header is alice's.
        var header = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("alice@example.test", "friend@remote.example", "forged header"),
            MailboxAddress.Parse("bob@example.test"), [MailboxAddress.Parse("friend@remote.example")]));
        Assert.Equal(553, (int)header.StatusCode);
    }

    [Fact]
    public async Task Alice_may_send_as_her_alias()
    {
        using var client = await ClientAsync(_server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("alice@example.test", "alice-password");
        await client.SendAsync(Message("sales@example.test", "bob@example.test", "as alias " + Guid.NewGuid()));
    }

    [Fact]
    public async Task Stray_cr_and_lf_in_a_submitted_body_become_spaces_and_only_crlf_dot_crlf_ends_it()
    {
        var subject = "stray " + Guid.NewGuid();
        var before = _server.Messages("alice").Length;
        await using var c = await SmtpWire.ConnectAsync(_server.Host, _server.SubmissionPort);
        await c.CommandAsync("EHLO client.example.test");
        Assert.Equal(220, (await c.CommandAsync("STARTTLS")).Code);
        await c.StartTlsHandshakeAsync("mx.example.test");
        await c.CommandAsync("EHLO client.example.test");
        Assert.Equal(235, (await c.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("\0bob@example.test\0bob-password"u8.ToArray()))).Code);
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<bob@example.test>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
        await c.SendRawAsync($"From: bob@example.test\r\nSubject: {subject}\r\n\r\nA\n.\nB\r.\rC\n.\r\nD\r\n.\r\n");
        Assert.Equal(250, (await c.ReadAsync()).Code);
        var files = await _server.WaitForMessagesAsync("alice", before + 1);
        var text = File.ReadAllText(files.Single(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal)));
        // Lines: "A" + stray LF, "." + stray LF, "B\r.\rC" + stray LF, "." CRLF, "D" CRLF; stored with LF endings.
        Assert.Contains("\nA . B . C .\nD\n", text);
        Assert.DoesNotContain("\r", text);
    }

    [Fact]
    public async Task Wrong_passwords_are_refused_535_and_a_correct_one_still_works_after_a_few()
    {
        await using var server = await ServerInstance.StartAsync();
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync(server.Host, server.SubmissionPort, SecureSocketOptions.StartTls);
        client.AuthenticationMechanisms.IntersectWith(["PLAIN"]);
        for (var i = 0; i < 3; i++)
        {
            var e = await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("bob@example.test", "wrong" + i));
            Assert.Contains("5.7.8", e.Message + server.ServerLog, StringComparison.Ordinal);
        }
        await client.AuthenticateAsync("bob@example.test", "bob-password");
        Assert.True(await server.WaitForLogAsync("user=bob@example.test mechanism=PLAIN failures=3 reason=bad-credentials"), server.ServerLog);
    }

    [Fact]
    public async Task Ten_failures_lock_the_account_out_with_454_4_7_0_even_for_the_right_password()
    {
        await using var server = await ServerInstance.StartAsync();
        // Ten guesses on ten connections at once (a botnet's way around per-connection delays).
        var guesses = Enumerable.Range(0, 10).Select(async i =>
        {
            await using var c = await ImplicitTlsAsync(server);
            // Parallel guesses see growing delays (up to 30 s) as the failures add up.
            return (await c.CommandAsync("AUTH PLAIN " + Plain("alice@example.test", "guess" + i), timeoutMs: 90_000)).Code;
        });
        Assert.All(await Task.WhenAll(guesses), code => Assert.Equal(535, code));
        await using var d = await ImplicitTlsAsync(server);
        var locked = await d.CommandAsync("AUTH PLAIN " + Plain("alice@example.test", "alice-password"));
        Assert.Equal("454 4.7.0", $"{locked.Code} {locked.Enhanced}");
        Assert.True(await server.WaitForLogAsync("reason=locked-out"), server.ServerLog);
    }

    private static string Plain(string user, string password) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    private static async Task<SmtpWire> ImplicitTlsAsync(ServerInstance server)
    {
        var c = await SmtpWire.ConnectAsync(server.Host, server.SubmissionsPort, readGreeting: false);
        await c.StartTlsHandshakeAsync("mx.example.test");
        Assert.Equal(220, (await c.ReadAsync()).Code);
        await c.CommandAsync("EHLO guesser.example.net");
        return c;
    }

    [Fact]
    public async Task Over_the_hourly_message_limit_gets_450_4_7_1_and_a_warning_naming_the_account()
    {
        await using var server = await ServerInstance.StartAsync("[submission]\nmessages_per_hour = 2\n");
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync(server.Host, server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync("bob@example.test", "bob-password");
        await client.SendAsync(Message("bob@example.test", "alice@example.test", "one"));
        await client.SendAsync(Message("bob@example.test", "alice@example.test", "two"));
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("bob@example.test", "alice@example.test", "three")));
        Assert.Equal(450, (int)e.StatusCode);
        Assert.True(await server.WaitForLogAsync("sending limit reached user=bob@example.test limit=messages"), server.ServerLog);
    }

    [Fact]
    public async Task Trusted_network_may_submit_without_auth_but_never_through_the_mx()
    {
        await using var server = await ServerInstance.StartAsync("[relay]\ntrusted_networks = [\"127.0.0.1/32\"]\n");
        await using (var sub = await SmtpWire.ConnectAsync(server.Host, server.SubmissionPort))
        {
            await sub.CommandAsync("EHLO printer.example.test");
            Assert.Equal(250, (await sub.CommandAsync("MAIL FROM:<printer@example.test>")).Code);
            Assert.Equal(250, (await sub.CommandAsync("RCPT TO:<someone@remote.example>")).Code);
        }
        await using var mx = await server.ConnectAsync();
        await mx.CommandAsync("EHLO printer.example.test");
        await mx.CommandAsync("MAIL FROM:<printer@example.test>");
        var r = await mx.CommandAsync("RCPT TO:<someone@remote.example>");
        Assert.Equal("550 5.7.1", $"{r.Code} {r.Enhanced}");
    }
}
