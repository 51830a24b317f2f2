using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>Catalog §2 (SMTP smuggling), §3.1 (STARTTLS injection) and pipelining discipline, over real sockets.</summary>
public sealed class SmugglingAndStartTlsTests(SharedServer fixture) : IClassFixture<SharedServer>
{
    private readonly ServerInstance _server = fixture.Server;

    public static TheoryData<string, string> EndOfDataSequences() => new()
    {
        { "lflf", "\n.\n" },
        { "lfcr", "\n.\r" },
        { "crlf", "\r.\n" },
        { "crcr", "\r.\r" },
        { "lfcrlf", "\n.\r\n" },
        { "crcrlf", "\r.\r\n" },
        { "nullbefore", "\r\n\0.\r\n" },
        { "crlflf", "\r\n.\n" },
        { "crlfcr", "\r\n.\r" },
        { "nullafter", "\r\n.\0\r\n" },
        { "postfix-quirk", "\r\n.\r\r\n" },
    };

    [Theory]
    [MemberData(nameof(EndOfDataSequences))]
    public async Task Smuggled_end_of_data_is_refused_and_no_second_message_is_created(string name, string sequence)
    {
        var before = _server.Messages("bob").Length;
        await using var c = await _server.ConnectAsync();
        Assert.Equal(250, (await c.CommandAsync("EHLO smuggler.example.net")).Code);
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<test@smuggler.example.net>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
        // The SEC Consult scanner's payload (catalog §2.3): a fake end, then a whole second transaction to bob.
        await c.SendRawAsync("Subject: smuggling " + name + "\r\n\r\nTESTING " + name + "\r\n" + sequence
            + "\r\nmail FROM:<smuggled@smuggler.example.net>\r\nrcpt TO:<bob@example.test>\r\ndata\r\nSubject: smuggled\r\n\r\nSMUGGLED " + name + "\r\n");
        // The server must not answer the fake end: nothing comes back before the real CRLF.CRLF.
        Assert.Null(await c.TryReadAsync(700));
        await c.SendRawAsync(".\r\n");
        var reply = await c.ReadAsync();
        Assert.Equal(550, reply.Code);
        Assert.Equal("5.6.0", reply.Enhanced);
        // The session goes on, in step: the smuggled MAIL/RCPT/DATA were never commands.
        Assert.Equal(250, (await c.CommandAsync("NOOP")).Code);
        await Task.Delay(300);
        Assert.Equal(before, _server.Messages("bob").Length);
    }

    [Fact]
    public async Task Bare_lf_ending_a_command_is_refused_with_500()
    {
        await using var c = await _server.ConnectAsync();
        await c.SendRawAsync("EHLO bare.example.net\n");
        var r = await c.ReadAsync();
        Assert.Equal("500 5.5.2", $"{r.Code} {r.Enhanced}");
    }

    [Fact]
    public async Task Starttls_injection_gets_only_the_220_and_the_injected_command_never_runs()
    {
        await using var c = await _server.ConnectAsync();
        Assert.Equal(250, (await c.CommandAsync("EHLO tls.example.net")).Code);
        // catalog §3.1 test B: STARTTLS and NOOP in one write.
        await c.SendRawAsync("STARTTLS\r\nNOOP\r\n");
        var first = await c.ReadAsync();
        Assert.Equal(220, first.Code);
        // Nothing else in plaintext...
        Assert.Null(await c.TryReadAsync(500));
        await c.StartTlsHandshakeAsync("mx.example.test");
        // ...and nothing inside TLS either: the NOOP was discarded, not executed after the handshake.
        Assert.Null(await c.TryReadAsync(700));
        // RFC 3207 §4.2: the session restarted; MAIL before a new EHLO is out of sequence.
        Assert.Equal(503, (await c.CommandAsync("MAIL FROM:<a@tls.example.net>")).Code);
        var ehlo = await c.CommandAsync("EHLO tls.example.net");
        Assert.Equal(250, ehlo.Code);
        Assert.DoesNotContain("STARTTLS", ehlo.Lines);
        Assert.Equal(503, (await c.CommandAsync("STARTTLS")).Code);
        for (var i = 0; i < 50 && !_server.ServerLog.Contains("rule=starttls-injection", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }
        Assert.Contains("rule=starttls-injection", _server.ServerLog);
    }

    [Fact]
    public async Task Mail_delivered_inside_tls_says_esmtps_in_its_received_header()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO tls.example.net");
        Assert.Equal(220, (await c.CommandAsync("STARTTLS")).Code);
        await c.StartTlsHandshakeAsync("mx.example.test");
        await c.CommandAsync("EHLO tls.example.net");
        var before = _server.Messages("bob").Length;
        var reply = await c.SendMessageAsync("x@tls.example.net", ["bob@example.test"], "Subject: over tls\r\n\r\nhello\r\n");
        Assert.Equal(250, reply.Code);
        var files = await _server.WaitForMessagesAsync("bob", before + 1);
        Assert.Contains(files, f => File.ReadAllText(f).Contains("with ESMTPS id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pipelined_commands_without_pipelining_negotiated_are_refused_554()
    {
        await using var c = await _server.ConnectAsync();
        Assert.Equal(250, (await c.CommandAsync("HELO old.example.net")).Code);
        await c.SendRawAsync("MAIL FROM:<a@old.example.net>\r\nRCPT TO:<alice@example.test>\r\n");
        var r = await c.ReadAsync();
        Assert.Equal("554 5.5.0", $"{r.Code} {r.Enhanced}");
    }

    [Fact]
    public async Task Next_transaction_in_the_same_packet_as_the_final_dot_without_pipelining_is_refused_and_not_queued()
    {
        var before = _server.Messages("bob").Length;
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("HELO old.example.net");
        Assert.Equal(250, (await c.CommandAsync("MAIL FROM:<a@old.example.net>")).Code);
        Assert.Equal(250, (await c.CommandAsync("RCPT TO:<bob@example.test>")).Code);
        Assert.Equal(354, (await c.CommandAsync("DATA")).Code);
        await c.SendRawAsync("Subject: one\r\n\r\nbody\r\n.\r\nMAIL FROM:<b@old.example.net>\r\nRCPT TO:<bob@example.test>\r\n");
        var r = await c.ReadAsync();
        Assert.Equal("554 5.5.0", $"{r.Code} {r.Enhanced}");
        await Task.Delay(300);
        Assert.Equal(before, _server.Messages("bob").Length);
    }

    [Fact]
    public async Task Pipelining_is_allowed_after_ehlo()
    {
        await using var c = await _server.ConnectAsync();
        await c.CommandAsync("EHLO fast.example.net");
        await c.SendRawAsync("MAIL FROM:<a@fast.example.net>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        Assert.Equal(250, (await c.ReadAsync()).Code);
        Assert.Equal(250, (await c.ReadAsync()).Code);
        Assert.Equal(250, (await c.ReadAsync()).Code);
        Assert.Equal(354, (await c.ReadAsync()).Code);
        await c.SendRawAsync("Subject: pipelined\r\n\r\nx\r\n.\r\n");
        Assert.Equal(250, (await c.ReadAsync()).Code);
    }
}
