using System.Net;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Delivery;

/// <summary>
/// The world outside the server under test, real and on loopback: a DNS server on 127.0.5.3:10053
/// (remote.test MX -> mx.remote.test 127.0.5.21) and a Postfix MX on 127.0.5.21:25 that answers
/// later@remote.test with 450 until released and unknown users with 550 5.1.1; capture.test's MX
/// (127.0.5.22:25) records the exact bytes it receives.
/// </summary>
public sealed class DeliveryWorld : IDisposable
{
    public const string MxAddress = "127.0.5.21";

    public DeliveryWorld()
    {
        Dns = new DnsTestServer(new IPEndPoint(IPAddress.Parse("127.0.5.3"), 10053));
        Dns.AddMx("remote.test", 10, "mx.remote.test");
        Dns.AddA("mx.remote.test", MxAddress);
        Mx = RemoteMxPostfix.Start(MxAddress, ["later@remote.test"]);
        Dns.AddMx("capture.test", 10, "mx.capture.test");
        Dns.AddA("mx.capture.test", CaptureAddress);
        Capture = new RemoteMxCapture(new IPEndPoint(IPAddress.Parse(CaptureAddress), 25));
    }

    public const string CaptureAddress = "127.0.5.22";

    /// <summary>capture.test's MX: keeps the exact bytes it receives.</summary>
    public RemoteMxCapture Capture { get; }

    public DnsTestServer Dns { get; }
    public RemoteMxPostfix Mx { get; }

    /// <summary>The [delivery] section pointing the server at this world, with quick retries.</summary>
    public string DeliveryToml(string retryInitial = "1s", string retryMax = "2s") => $"""
        [delivery]
        dns_servers = "{Dns.Setting}"
        retry_initial = "{retryInitial}"
        retry_max = "{retryMax}"
        """;

    /// <summary>Sends a message the way a user's mail client does: MailKit, port 587, STARTTLS, AUTH as alice.</summary>
    public static async Task SubmitAsync(ServerInstance server, IEnumerable<MimeMessage> messages, string user = "alice@example.test", string password = "alice-password")
    {
        using var client = new SmtpClient();
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync(server.Host, server.SubmissionPort, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(user, password);
        foreach (var m in messages)
        {
            await client.SendAsync(m);
        }
        await client.DisconnectAsync(true);
    }

    public static MimeMessage Message(string to, string subject, string body = "Hello from Portcullis.\n")
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse("alice@example.test"));
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = subject;
        m.Body = new TextPart("plain") { Text = body };
        return m;
    }


    public void Dispose()
    {
        Capture.Dispose();
        Mx.Dispose();
        Dns.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DeliveryWorldCollection : ICollectionFixture<DeliveryWorld>
{
    public const string Name = "delivery world (DNS 127.0.5.3 + Postfix MX 127.0.5.21)";
}
