using System.Diagnostics;
using System.Globalization;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

// Usage: SubmitClient HOST PORT USER PASSWORD CLIENTS MESSAGES_PER_CLIENT SIZE TO
// Each client connects once (STARTTLS), authenticates once with AUTH PLAIN and sends its messages on
// that connection. Prints one line: messages, seconds, messages/s (submission: until the last 250).
var host = args[0];
var port = int.Parse(args[1], CultureInfo.InvariantCulture);
var (user, password) = (args[2], args[3]);
var clients = int.Parse(args[4], CultureInfo.InvariantCulture);
var perClient = int.Parse(args[5], CultureInfo.InvariantCulture);
var size = int.Parse(args[6], CultureInfo.InvariantCulture);
var to = args[7];

var line = new string('x', 76) + "\n";
var body = string.Concat(Enumerable.Repeat(line, Math.Max(1, size / line.Length)));
var failures = 0;
var sw = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
{
    using var client = new SmtpClient();
    client.ServerCertificateValidationCallback = (_, _, _, _) => true;
    await client.ConnectAsync(host, port, SecureSocketOptions.StartTls);
    await client.AuthenticateAsync(new SaslMechanismPlain(user, password));
    for (var i = 0; i < perClient; i++)
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(user));
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = $"bench {c}-{i}";
        m.Body = new TextPart("plain") { Text = body };
        try
        {
            await client.SendAsync(m);
        }
        catch (SmtpCommandException e)
        {
            Interlocked.Increment(ref failures);
            Console.Error.WriteLine($"client {c} message {i}: {e.StatusCode} {e.Message}");
        }
    }
    await client.DisconnectAsync(true);
}));
sw.Stop();
var sent = clients * perClient - failures;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sent} {sw.Elapsed.TotalSeconds:F3} {sent / sw.Elapsed.TotalSeconds:F1}"));
return failures == 0 ? 0 : 1;
