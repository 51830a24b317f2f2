using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// The mailboxes are standard Maildir: Debian's Dovecot (doveadm, the same mail storage code its IMAP and
/// POP3 servers use) lists and reads what Portcullis delivered.
/// </summary>
public sealed class DovecotReadsMaildirTests
{
    [Fact]
    public async Task Dovecot_reads_the_messages_portcullis_delivered()
    {
        if (Environment.UserName != "root")
        {
            return; // Dovecot refuses mail access as root, so the server must run as another user: CI runs as root
        }
        // The server runs as nobody (server.user), so the mailbox belongs to a user Dovecot accepts.
        await using var server = await ServerInstance.StartAsync(user: "nobody");
        var subject = "read by dovecot " + Guid.NewGuid();
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@remote.example"));
        message.To.Add(MailboxAddress.Parse("alice@example.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "first line\n.a line that starts with a dot\nlast line\n" };
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(server.Host, server.MxPort, SecureSocketOptions.StartTls);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }
        Assert.Single(await server.WaitForMessagesAsync("alice", 1));

        var home = Path.Combine(server.DataDir, "mail", "example.test", "alice");
        var config = Path.Combine(server.Root, "dovecot.conf");
        await File.WriteAllTextAsync(config, $"""
            base_dir = {Path.Combine(server.Root, "dovecot-run")}
            state_dir = {Path.Combine(server.Root, "dovecot-state")}
            log_path = /dev/stderr
            ssl = no
            protocols =

            """);
        var fetched = await DoveadmAsync(config, home, "fetch", "hdr.return-path hdr.subject body", "all");

        Assert.Contains("hdr.return-path: <sender@remote.example>", fetched, StringComparison.Ordinal);
        Assert.Contains("hdr.subject: " + subject, fetched, StringComparison.Ordinal);
        Assert.Contains("\n.a line that starts with a dot\n", fetched, StringComparison.Ordinal);
        var count = await DoveadmAsync(config, home, "search", "all");
        Assert.Single(count.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task<string> DoveadmAsync(string config, string home, params string[] args)
    {
        var psi = new ProcessStartInfo("doveadm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-c", config, "-o", "mail_uid=nobody", "-o", "mail_gid=nogroup", "-o", $"mail_location=maildir:{home}/Maildir" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        // Without -u doveadm serves the user named by USER, with HOME as home: no auth service needed.
        psi.Environment["USER"] = "alice";
        psi.Environment["HOME"] = home;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"doveadm {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}");
        return await stdout;
    }
}
