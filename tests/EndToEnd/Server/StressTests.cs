using System.Diagnostics;
using System.Text;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// A connection flood: near max_connections the listener disconnects clients that keep it waiting longer than
/// limits.stress_timeout (Postfix's stress-adaptive smtpd_timeout) or that send a message slower than 500 octets/s
/// on average (its smtpd_min_data_rate), and leaves clients that are talking alone.
/// </summary>
public sealed class StressTests
{
    [Fact]
    public async Task Under_a_connection_flood_idle_and_dribbling_clients_get_421_4_4_2_and_talking_ones_stay()
    {
        await using var server = await ServerInstance.StartAsync("[limits]\nmax_connections = 10\nstress_timeout = \"1s\"\n");
        var all = new List<SmtpWire>();
        try
        {
            // Below 80% of max_connections the RFC 5321 timeouts hold: two idle clients outlive the stress timeout.
            var idle = new List<SmtpWire>();
            for (var i = 0; i < 2; i++)
            {
                idle.Add(await server.ConnectAsync());
            }
            all.AddRange(idle);
            await Task.Delay(2500);
            foreach (var c in idle)
            {
                Assert.Equal(250, (await c.CommandAsync("NOOP")).Code);
            }
            Assert.DoesNotContain("stress listener=", server.ServerLog);

            // A client that sends its message a 1000-octet line every 300 ms (3 KB/s): slow, but never idle for
            // a second and above the 500 octets/s a message must average under stress.
            var slow = await server.ConnectAsync();
            all.Add(slow);
            await StartDataAsync(slow, "slow.example.net");
            await slow.SendRawAsync("Subject: slow but steady\r\n\r\n");

            // A client that sends its message one octet every 200 ms: never idle for a second either, but at
            // 5 octets/s it would hold its slot for hours.
            var dribbler = await server.ConnectAsync();
            all.Add(dribbler);
            await StartDataAsync(dribbler, "dribble.example.net");
            var dribbling = Task.Run(async () =>
            {
                for (var i = 0; i < 40 && !dribbler.ServerHasSpoken; i++)
                {
                    await dribbler.SendRawAsync("x");
                    await Task.Delay(200);
                }
                return await dribbler.ReadAsync(1000);
            });

            // The flood: four more idle connections make eight of ten.
            for (var i = 0; i < 4; i++)
            {
                all.Add(await server.ConnectAsync());
            }
            Assert.True(await server.WaitForLogAsync("stress listener=mx connections=8 max_connections=10"), server.ServerLog);

            var sending = Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await slow.SendRawAsync($"line {i} {new string('x', 990)}\r\n");
                    await Task.Delay(300);
                }
                await slow.SendRawAsync(".\r\n");
                return await slow.ReadAsync();
            });

            // The idle ones had waited since their NOOP, before the flood began: each gets 421 4.4.2 within
            // the stress timeout and the sweep's interval, not after the five-minute command timeout.
            var clock = Stopwatch.StartNew();
            foreach (var c in idle)
            {
                var r = await c.ReadAsync(5000);
                Assert.Equal("421 4.4.2", $"{r.Code} {r.Enhanced}");
            }
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4));
            var dribbled = await dribbling;
            Assert.Equal("421 4.4.2", $"{dribbled.Code} {dribbled.Enhanced}");
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4));

            var end = await sending;
            Assert.Equal(250, end.Code);
            var delivered = await server.WaitForMessagesAsync("alice", 1);
            Assert.Single(delivered);
            Assert.Contains("line 9", Encoding.UTF8.GetString(File.ReadAllBytes(delivered[0])));
            Assert.Equal(250, (await slow.CommandAsync("NOOP")).Code);
            Assert.Contains("end=stress-timeout", server.ServerLog);

            // With the idle clients gone the listener is below half its limit: stress is over, and an idle
            // client outlives the stress timeout again.
            Assert.True(await server.WaitForLogAsync("stress over listener=mx"), server.ServerLog);
            var after = await server.ConnectAsync();
            all.Add(after);
            await Task.Delay(2500);
            Assert.Equal(250, (await after.CommandAsync("NOOP")).Code);
        }
        finally
        {
            foreach (var c in all)
            {
                await c.DisposeAsync();
            }
        }
    }

    private static async Task StartDataAsync(SmtpWire c, string helo)
    {
        await c.CommandAsync($"EHLO {helo}");
        Assert.Equal(250, (await c.CommandAsync($"MAIL FROM:<s@{helo}>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
    }
}
