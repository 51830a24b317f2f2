using System.Globalization;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailKit.Security;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>listeners.metrics: the running server's counters over HTTP in Prometheus's text format.</summary>
public sealed partial class MetricsTests
{
    private const string MetricsAddress = "127.0.4.61:9464";

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>\S+)$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<key>[a-z_]+)=""(?<value>[^""]*)""")]
    private static partial Regex Label();

    /// <summary>The value of the one series with this name and these labels (others it may carry are ignored); null when absent.</summary>
    private static double? Value(string exposition, string name, params (string Key, string Value)[] labels)
    {
        foreach (var line in exposition.Split('\n'))
        {
            var m = Sample().Match(line.TrimEnd('\r'));
            if (!m.Success || m.Groups["name"].Value != name)
            {
                continue;
            }
            var have = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value);
            if (labels.All(l => have.TryGetValue(l.Key, out var v) && v == l.Value))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    [Fact]
    public async Task The_metrics_endpoint_counts_refusals_by_rule_messages_deliveries_sessions_and_failed_auth()
    {
        await using var server = await ServerInstance.StartAsync($"metrics = \"{MetricsAddress}\"\n");
        Assert.True(await server.WaitForLogAsync($"metrics on http://{MetricsAddress}/metrics"), server.ServerLog);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = $"http://{MetricsAddress}/metrics";

        await using (var c = await server.ConnectAsync())
        {
            await c.CommandAsync("EHLO client.example.net");
            Assert.Equal(250, (await c.SendMessageAsync("someone@client.example.net", ["alice@example.test"], "Subject: counted\r\n\r\nhello\r\n")).Code);
            Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<spammer@client.example.net>")).Code);
            Assert.Equal(550, (await c.CommandAsync("RCPT TO:<victim@elsewhere.example>")).Code);
            Assert.Equal(550, (await c.CommandAsync("RCPT TO:<nobody@example.test>")).Code);
            Assert.Equal(221, (await c.CommandAsync("QUIT")).Code);
        }
        // A wrong password on submission (what a brute-force attempt looks like).
        using (var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true })
        {
            await client.ConnectAsync(server.Host, server.SubmissionPort, SecureSocketOptions.StartTls);
            await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(new SaslMechanismPlain("bob@example.test", "wrong")));
        }
        // One connection held open, to be seen as an open session.
        await using var open = await server.ConnectAsync();
        Assert.True(await server.WaitForLogAsync("end=quit"), server.ServerLog);

        var text = await http.GetStringAsync(url);
        Assert.Equal(1, Value(text, "portcullis_smtp_refusals_total", ("listener", "mx"), ("rule", "relay-denied")));
        Assert.Equal(1, Value(text, "portcullis_smtp_refusals_total", ("listener", "mx"), ("rule", "unknown-user")));
        Assert.Equal(1, Value(text, "portcullis_smtp_messages_total", ("listener", "mx"), ("stored", "mailbox")));
        Assert.Equal(1, Value(text, "portcullis_delivery_recipients_total", ("agent", "local"), ("outcome", "delivered")));
        Assert.Equal(1, Value(text, "portcullis_smtp_sessions_total", ("listener", "mx"), ("end", "quit")));
        Assert.Equal(1, Value(text, "portcullis_smtp_auth_total", ("listener", "submission"), ("mechanism", "PLAIN"), ("result", "failed")));
        Assert.Equal(1, Value(text, "portcullis_smtp_sessions_active", ("listener", "mx")));
        Assert.Equal(0, Value(text, "portcullis_smtp_stress", ("listener", "mx")));
        Assert.Equal(0, Value(text, "portcullis_queue_messages"));
        Assert.Single(server.Messages("alice"));

        // Counters only grow; the gauge follows the connection.
        await open.CommandAsync("QUIT");
        Assert.True(await WaitForAsync(async () => Value(await http.GetStringAsync(url), "portcullis_smtp_sessions_active", ("listener", "mx")) == 0), server.ServerLog);
        text = await http.GetStringAsync(url);
        Assert.Equal(2, Value(text, "portcullis_smtp_sessions_total", ("listener", "mx"), ("end", "quit")));
        Assert.Equal(1, Value(text, "portcullis_smtp_refusals_total", ("listener", "mx"), ("rule", "relay-denied")));
    }

    [Fact]
    public async Task Without_listeners_metrics_the_server_listens_for_no_scrapes()
    {
        await using var server = await ServerInstance.StartAsync();
        Assert.True(await server.WaitForLogAsync("Portcullis ready"), server.ServerLog);
        Assert.DoesNotContain("metrics on http://", server.ServerLog);
        // The server process listens on its three SMTP ports and nothing else.
        var listening = ListeningPorts(server.Pid);
        Assert.Equal(new[] { server.MxPort, server.SubmissionsPort, server.SubmissionPort }.Order(), listening.Order());
    }

    /// <summary>TCP ports on which process PID has a listening socket (/proc/net/tcp{,6} state 0A, matched by socket inode).</summary>
    private static List<int> ListeningPorts(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget ?? "";
            if (target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target[8..^1]);
            }
        }
        var ports = new List<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f[3] == "0A" && inodes.Contains(f[9]))
                {
                    ports.Add(int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }
        return ports;
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }
}
