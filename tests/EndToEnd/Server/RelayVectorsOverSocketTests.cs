using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// Every relay vector of the golden table (catalog §1.1-§1.4) sent over a real socket to the real
/// program, as an untrusted Internet client: each gets exactly the reply the table says, and the log
/// names the rule that decided.
/// </summary>
public sealed class RelayVectorsOverSocketTests(SharedServer fixture) : IClassFixture<SharedServer>
{
    private readonly ServerInstance _server = fixture.Server;

    public static TheoryData<string> MxVectors()
    {
        var data = new TheoryData<string>();
        foreach (var raw in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "vectors", "relay-vectors.txt")))
        {
            if (raw.StartsWith("mx | ", StringComparison.Ordinal))
            {
                data.Add(raw);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MxVectors))]
    public async Task Relay_vector_gets_the_golden_reply_over_a_socket(string vector)
    {
        var parts = vector.Split(" | ");
        var expected = parts[2];
        await using var c = await _server.ConnectAsync();
        Assert.Equal(250, (await c.CommandAsync("EHLO probe.example.net")).Code);
        // A forged local sender (catalog §1.4 "sender = local user") must not help.
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<alice@example.test>")).Code);
        var reply = await c.CommandAsync("RCPT TO:" + parts[1]);
        Assert.Equal(expected, $"{reply.Code} {reply.Enhanced}");
        if (reply.Code >= 500)
        {
            await WaitForLogAsync($"rule={parts[3]} ");
        }
    }

    [Fact]
    public async Task Helo_spoofing_as_localhost_or_the_server_itself_grants_nothing()
    {
        foreach (var helo in new[] { "localhost.localdomain", "mx.example.test", "[127.0.1.10]", "localhost" })
        {
            await using var c = await _server.ConnectAsync();
            Assert.Equal(250, (await c.CommandAsync("EHLO " + helo)).Code);
            Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<postmaster@example.test>")).Code);
            var r = await c.CommandAsync("RCPT TO:<canary@victim.example>");
            Assert.Equal("550 5.7.1", $"{r.Code} {r.Enhanced}");
        }
    }

    [Fact]
    public async Task Null_sender_is_accepted_for_local_users_and_refused_for_relay()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO probe.example.net");
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(550, (await c.CommandAsync("RCPT TO:<relaytest@nmap.scanme.org>")).Code);
    }

    private async Task WaitForLogAsync(string needle)
    {
        for (var i = 0; i < 50 && !_server.ServerLog.Contains(needle, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }
        Assert.Contains(needle, _server.ServerLog);
    }
}
