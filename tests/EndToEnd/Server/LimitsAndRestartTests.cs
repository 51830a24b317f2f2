using System.Text;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>Limits with the RFC's replies, crash safety and configuration errors; each test has its own server.</summary>
public sealed class LimitsAndRestartTests
{
    [Fact]
    public async Task Oversize_message_is_refused_552_by_size_parameter_and_by_content()
    {
        await using var server = await ServerInstance.StartAsync("[limits]\nmax_message_size = 20000\n");
        await using var c = await server.ConnectAsync();
        var ehlo = await c.CommandAsync("EHLO big.example.net");
        Assert.Contains("SIZE 20000", ehlo.Lines);
        var r = await c.CommandAsync("MAIL FROM:<b@big.example.net> SIZE=50000");
        Assert.Equal("552 5.3.4", $"{r.Code} {r.Enhanced}");
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<b@big.example.net>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
        var body = new StringBuilder("Subject: big\r\n\r\n");
        for (var i = 0; i < 400; i++)
        {
            body.Append(new string('x', 98)).Append("\r\n");
        }
        await c.SendRawAsync(body + ".\r\n");
        var end = await c.ReadAsync();
        Assert.Equal("552 5.3.4", $"{end.Code} {end.Enhanced}");
        await Task.Delay(500);
        Assert.Empty(server.Messages("alice"));
    }

    [Fact]
    public async Task The_101st_recipient_gets_452_4_5_3()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO many.example.net");
        await c.CommandAsync("MAIL FROM:<m@many.example.net>");
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        }
        var r = await c.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.Equal("452 4.5.3", $"{r.Code} {r.Enhanced}");
    }

    [Fact]
    public async Task Ten_refused_commands_end_the_session_with_421_4_7_0()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO harvest.example.net");
        await c.CommandAsync("MAIL FROM:<h@harvest.example.net>");
        for (var i = 0; i < 9; i++)
        {
            Assert.Equal(550, (await c.CommandAsync($"RCPT TO:<guess{i}@example.test>")).Code);
        }
        await c.SendRawAsync("RCPT TO:<guess9@example.test>\r\n");
        Assert.Equal(550, (await c.ReadAsync()).Code);
        var last = await c.ReadAsync();
        Assert.Equal("421 4.7.0", $"{last.Code} {last.Enhanced}");
        Assert.Null(await c.TryReadAsync(2000));
    }

    [Fact]
    public async Task Command_line_over_512_octets_gets_500_and_the_session_continues()
    {
        await using var server = await ServerInstance.StartAsync(populate: false);
        await using var c = await server.ConnectAsync();
        var r = await c.CommandAsync("NOOP " + new string('a', 600));
        Assert.Equal(500, r.Code);
        Assert.Equal(250, (await c.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task Connections_beyond_the_per_client_limit_get_421()
    {
        await using var server = await ServerInstance.StartAsync("[limits]\nmax_connections_per_client = 2\n", populate: false);
        // Hold two sessions that got their greeting (the start-up probe's session may take a moment to end).
        var held = new List<SmtpWire>();
        for (var attempt = 0; held.Count < 2 && attempt < 50; attempt++)
        {
            var c = await server.ConnectAsync(readGreeting: false);
            if ((await c.ReadAsync()).Code == 220)
            {
                held.Add(c);
            }
            else
            {
                await c.DisposeAsync();
                await Task.Delay(200);
            }
        }
        Assert.Equal(2, held.Count);
        await using var third = await server.ConnectAsync(readGreeting: false);
        var r = await third.ReadAsync();
        Assert.Equal("421 4.7.0", $"{r.Code} {r.Enhanced}");
        foreach (var c in held)
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_crash_loses_no_acknowledged_message_and_duplicates_none()
    {
        await using var server = await ServerInstance.StartAsync();
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Ten clients send as fast as they can; the server is killed (SIGKILL) in the middle.
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 10).Select(async n =>
        {
            try
            {
                await using var c = await server.ConnectAsync();
                await c.CommandAsync("EHLO crash.example.net");
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var tag = $"crash-{n}-{i}-{Guid.NewGuid():N}";
                    var r = await c.SendMessageAsync("c@crash.example.net", ["bob@example.test"], $"Subject: {tag}\r\n\r\n{tag}\r\n");
                    if (r.Code == 250)
                    {
                        acknowledged.Add(tag);
                    }
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or Xunit.Sdk.XunitException or InvalidDataException)
            {
                // the crash cut the connection
            }
        }).ToList();
        await Task.Delay(1500);
        await server.CrashAndRestartAsync();
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        Assert.True(acknowledged.Count > 10, $"only {acknowledged.Count} messages were acknowledged before the crash");

        var files = await server.WaitForMessagesAsync("bob", acknowledged.Count, TimeSpan.FromSeconds(30));
        var delivered = files.Select(f => File.ReadAllText(f)).ToList();
        foreach (var tag in acknowledged)
        {
            Assert.Equal(1, delivered.Count(t => t.Contains(tag, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_copy_a_crash_left_whole_in_tmp_is_in_new_after_the_restart_and_a_torn_one_is_removed()
    {
        await using var server = await ServerInstance.StartAsync();
        await using (var c = await server.ConnectAsync())
        {
            await c.CommandAsync("EHLO crash.example.net");
            Assert.Equal(250, (await c.SendMessageAsync("c@crash.example.net", ["bob@example.test"], "Subject: first\r\n\r\nfirst\r\n")).Code);
        }
        await server.WaitForMessagesAsync("bob", 1);
        var tmp = Path.Combine(server.DataDir, "mail", "example.test", "bob", "Maildir", "tmp");
        // What the chained commit can leave when the machine stops after a 250: the copy whole under its staging
        // name (final name '#' length '.' CRC-32), its link into new/ not yet on disk; and a copy that was still
        // being written (never acknowledged), its bytes short of what its name says.
        var whole = System.Text.Encoding.ASCII.GetBytes("Return-Path: <c@crash.example.net>\nSubject: whole\n\nwhole\n");
        var torn = System.Text.Encoding.ASCII.GetBytes("Return-Path: <c@crash.example.net>\nSubject: torn\n\ntorn\n");
        string Staged(string name, byte[] content) => Path.Combine(tmp, $"{name}#{content.Length}.{System.IO.Hashing.Crc32.HashToUInt32(content):x8}");
        var wholeName = "1795000000.PcrashwholeR0.mx.example.test";
        await server.CrashAndRestartAsync(() =>
        {
            File.WriteAllBytes(Staged(wholeName, whole), whole);
            File.WriteAllBytes(Staged("1795000000.PcrashtornR0.mx.example.test", torn), torn[..10]);
        });

        var restored = Path.Combine(server.MaildirNew("bob"), wholeName);
        Assert.True(File.Exists(restored), server.ServerLog);
        Assert.Equal(whole, await File.ReadAllBytesAsync(restored));
        Assert.Empty(Directory.GetFiles(tmp));
        Assert.Equal(2, server.Messages("bob").Length);
        Assert.Contains($"recovered {restored}", server.ServerLog, StringComparison.Ordinal);
        Assert.Contains("1 unfinished copies (never acknowledged) removed", server.ServerLog, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PORTCULLIS__RELAY__TRUSTED_NETWORKS", "0.0.0.0/0", "relay.trusted_networks")]
    [InlineData("PORTCULLIS__RELAY__TRUSTED_NETWORKS", "::/0", "relay.trusted_networks")]
    [InlineData("PORTCULLIS__RELAY__TRUSTED_NETWORKS", "8.0.0.0/8", "relay.trusted_networks")]
    [InlineData("PORTCULLIS__LISTENERS__MX", "nonsense", "listeners.mx")]
    [InlineData("PORTCULLIS__LISTENERS__METRICS", "9464", "listeners.metrics")]
    [InlineData("PORTCULLIS__LISTENERS__METRICS", "127.0.1.250:2525", "listeners.metrics")]
    [InlineData("PORTCULLIS__LISTENERS__METRICS", "[::1]:9464", "listeners.metrics")]
    [InlineData("PORTCULLIS__LIMITS__MAX_RECIPIENTS", "5", "limits.max_recipients")]
    [InlineData("PORTCULLIS__SERVER__HOSTNAME", "bad host", "server.hostname")]
    [InlineData("PORTCULLIS__SERVER__TYPO_KEY", "x", "server.typo_key")]
    public async Task A_bad_setting_stops_the_start_with_one_line_naming_the_key_and_exit_2(string variable, string value, string key)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var config = Path.Combine(dir, "portcullis.toml");
            File.WriteAllText(config, "[listeners]\nmx = \"127.0.1.250:2525\"\n");
            var (code, _, stderr) = await PortcullisProcess.RunAsync(["serve", "--config", config], new Dictionary<string, string> { [variable] = value });
            Assert.Equal(2, code);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith($"portcullis: configuration error: {key}: ", lines[0], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("127.0.4.31", "submission", 2587)]
    [InlineData("127.0.4.32", "metrics", 9464)] // the HTTP endpoint (HttpListener reports errno, not a SocketError)
    public async Task A_listener_whose_port_is_taken_stops_the_start_naming_the_setting_the_address_and_the_cause(string address, string listener, int port)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse(address), port);
        other.Start();
        try
        {
            var config = Path.Combine(dir, "portcullis.toml");
            File.WriteAllText(config, $"[server]\nhostname = \"mx.example.test\"\npostmaster = \"pm@example.test\"\n[storage]\ndata_dir = \"data\"\n[listeners]\nmx = \"{address}:2525\"\n{listener} = \"{address}:{port}\"\n");
            var (code, _, stderr) = await PortcullisProcess.RunAsync(["serve", "--config", config]);
            Assert.Equal(1, code);
            Assert.Contains($"cannot start: listeners.{listener} ({address}:{port}): address already in use", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Environment_overrides_the_file()
    {
        await using var server = await ServerInstance.StartAsync(populate: false);
        // The instance listens where the file says; a one-shot command with an override sees the override.
        var (code, _, stderr) = await PortcullisProcess.RunAsync(["serve", "--config", server.ConfigFile],
            new Dictionary<string, string> { ["PORTCULLIS__LIMITS__MAX_ERRORS"] = "0" });
        Assert.Equal(2, code);
        Assert.Contains("limits.max_errors", stderr);
    }
}

/// <summary>server.user: started as root, the server binds and then runs as the configured user.</summary>
public sealed class PrivilegeDropTests
{
    [Fact]
    public async Task With_server_user_set_the_running_server_is_that_user_and_still_delivers()
    {
        if (Environment.UserName != "root")
        {
            return; // only root can switch users; CI runs as root
        }
        await using var server = await ServerInstance.StartAsync("[limits]\nmax_errors = 10\n", port: 25, user: "nobody");
        // The kernel takes connections from listen() on, before the switch (which comes after binding and
        // handing the data directory over); "Portcullis ready" is logged after it.
        Assert.True(await server.WaitForLogAsync("Portcullis ready"), server.ServerLog);
        var status = await File.ReadAllLinesAsync($"/proc/{server.Pid}/status");
        var uid = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(uid.Skip(1), u => Assert.Equal("65534", u));
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO client.example.net");
        Assert.Equal(250, (await c.SendMessageAsync("x@client.example.net", ["alice@example.test"], "Subject: as nobody\r\n\r\nx\r\n")).Code);
        Assert.Single(await server.WaitForMessagesAsync("alice", 1));
    }
}
