using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>Mail for local users arrives in their Maildir, from real clients (MailKit, swaks).</summary>
public sealed class DeliveryTests(SharedServer fixture) : IClassFixture<SharedServer>
{
    private readonly ServerInstance _server = fixture.Server;

    [Fact]
    public async Task MailKit_delivers_to_a_local_user_and_the_maildir_file_has_received_and_return_path()
    {
        var before = _server.Messages("alice").Length;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@remote.example"));
        message.To.Add(MailboxAddress.Parse("alice@example.test"));
        message.Subject = "hello from mailkit " + Guid.NewGuid();
        message.Body = new TextPart("plain") { Text = "Hi Alice.\n.leading dot stays\n" };
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(_server.Host, _server.MxPort, SecureSocketOptions.StartTls);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }
        var files = await _server.WaitForMessagesAsync("alice", before + 1);
        var text = files.Select(File.ReadAllText).Single(t => t.Contains(message.Subject, StringComparison.Ordinal));
        // Maildir files use LF line endings, as Postfix's local(8) and Dovecot write them.
        Assert.StartsWith("Return-Path: <sender@remote.example>\n", text, StringComparison.Ordinal);
        Assert.Matches(@"\nReceived: from [^\r\n]+\(\[127\.0\.0\.1\]\)\n\tby mx\.example\.test \(Portcullis\) with ESMTPS id [0-9A-F]+\n\tfor <alice@example\.test>; ", text);
        Assert.Contains("\n.leading dot stays", text);
        Assert.DoesNotContain("\r", text);
        var parsed = MimeMessage.Load(files.Single(f => File.ReadAllText(f).Contains(message.Subject, StringComparison.Ordinal)));
        Assert.Equal(message.Subject, parsed.Subject);
    }

    [Fact]
    public async Task Swaks_delivers_to_an_alias_and_the_mail_lands_in_the_target_mailbox()
    {
        var before = _server.Messages("alice").Length;
        var subject = "swaks " + Guid.NewGuid();
        var psi = new ProcessStartInfo("swaks")
        {
            ArgumentList = { "--server", $"{_server.Host}:{_server.MxPort}", "--from", "someone@remote.example", "--to", "sales@example.test", "--header", "Subject: " + subject, "--body", "via swaks" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("<-  250 2.0.0 Ok: queued as", output);
        var files = await _server.WaitForMessagesAsync("alice", before + 1);
        Assert.Contains(files, f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_queued_message_reaches_the_mailbox_within_a_second_on_an_idle_server()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO quick.example.net");
        var before = _server.Messages("bob").Length;
        var sw = Stopwatch.StartNew();
        Assert.Equal(250, (await c.SendMessageAsync("q@quick.example.net", ["bob@example.test"], "Subject: quick\r\n\r\nx\r\n")).Code);
        var files = await _server.WaitForMessagesAsync("bob", before + 1, TimeSpan.FromSeconds(5));
        Assert.True(files.Length > before);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"delivery took {sw.Elapsed}");
    }

    [Fact]
    public async Task One_message_to_a_user_and_its_alias_is_delivered_once()
    {
        var subject = "dedupe " + Guid.NewGuid();
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO dup.example.net");
        Assert.Equal(250, (await c.SendMessageAsync("d@dup.example.net", ["alice@example.test", "sales@example.test", "ALICE@example.test"], $"Subject: {subject}\r\n\r\nx\r\n")).Code);
        await Task.Delay(1000);
        Assert.Single(_server.Messages("alice"), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_local_user_is_refused_550_5_1_1_at_rcpt_time()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO who.example.net");
        await c.CommandAsync("MAIL FROM:<w@who.example.net>");
        var r = await c.CommandAsync("RCPT TO:<nosuchuser@example.test>");
        Assert.Equal("550 5.1.1", $"{r.Code} {r.Enhanced}");
    }

    [Fact]
    public async Task Postmaster_abuse_and_bare_postmaster_are_always_accepted()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO who.example.net");
        await c.CommandAsync("MAIL FROM:<>");
        foreach (var rcpt in new[] { "<postmaster@example.test>", "<abuse@example.test>", "<Postmaster>", "<POSTMASTER@EXAMPLE.TEST>" })
        {
            Assert.Equal(250, (await c.CommandAsync("RCPT TO:" + rcpt)).Code);
        }
    }

    [Fact]
    public async Task Vrfy_confirms_nothing_and_expn_is_disabled()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO who.example.net");
        Assert.Equal(252, (await c.CommandAsync("VRFY alice")).Code);
        Assert.Equal(252, (await c.CommandAsync("VRFY nosuchuser")).Code);
        Assert.Equal(502, (await c.CommandAsync("EXPN staff")).Code);
    }

    [Fact]
    public async Task Notify_success_on_the_mx_is_not_honoured_so_a_forged_sender_gets_no_notice()
    {
        var alice = _server.Messages("alice").Length;
        var bob = _server.Messages("bob").Length;
        var subject = "forged notify " + Guid.NewGuid();
        await using (var c = await _server.ConnectAsync())
        {
            await c.CommandAsync("EHLO who.example.net");
            Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<bob@example.test> ENVID=e2e-forged")).Code);
            Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test> NOTIFY=SUCCESS")).Code);
            Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
            Assert.Equal(250, (await c.CommandAsync($"From: <bob@example.test>\r\nSubject: {subject}\r\n\r\nBuy now.\r\n.")).Code);
        }
        var mail = await _server.WaitForMessagesAsync("alice", alice + 1);
        Assert.Contains(mail, f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        // A notice would have been queued with the delivery and be in bob's Maildir well within this wait.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(_server.Messages("bob"), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        Assert.Equal(bob, _server.Messages("bob").Length);
    }

    [Theory]
    [InlineData("MAIL FROM:<bob@example.test> ENVID=line+0D+0ABcc:+20x@evil.test")]
    [InlineData("MAIL FROM:<bob@example.test> ENVID=half+2")]
    [InlineData("MAIL FROM:<bob@example.test> ENVID=a=b")]
    [InlineData("RCPT TO:<alice@example.test> ORCPT=rfc822;a+0Ab@example.test")]
    [InlineData("RCPT TO:<alice@example.test> ORCPT=alice@example.test")]
    public async Task Dsn_parameters_that_are_not_xtext_of_printable_text_are_refused_501(string command)
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO who.example.net");
        if (command.StartsWith("RCPT", StringComparison.Ordinal))
        {
            Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<bob@example.test>")).Code);
        }
        var reply = await c.CommandAsync(command);
        Assert.Equal((501, "5.5.4"), (reply.Code, reply.Enhanced));
    }

    [Fact]
    public async Task Ehlo_advertises_the_extensions_and_no_auth_on_the_mx_listener()
    {
        await using var c = await _server.ConnectAsync();
        var r = await c.CommandAsync("EHLO who.example.net");
        foreach (var ext in new[] { "PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS" })
        {
            Assert.Contains(ext, r.Lines);
        }
        Assert.Contains(r.Lines, l => l.StartsWith("SIZE ", StringComparison.Ordinal));
        Assert.DoesNotContain(r.Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal));
        // DSN only on submission: success notices are for senders who proved who they are.
        Assert.DoesNotContain("DSN", r.Lines);
        Assert.Equal(502, (await c.CommandAsync("AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3N3b3Jk")).Code);
    }
}
