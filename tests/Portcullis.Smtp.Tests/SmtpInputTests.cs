using System.Buffers;
using System.Text;
using Portcullis.Smtp;

namespace Portcullis.Smtp.Tests;

public class SmtpInputTests
{
    private static SmtpInput Input(string wire) => new(new MemoryStream(Encoding.Latin1.GetBytes(wire)));

    private static async Task<List<CommandLine>> ReadAll(string wire)
    {
        var input = Input(wire);
        var lines = new List<CommandLine>();
        while (true)
        {
            var l = await input.ReadCommandAsync(512, CancellationToken.None);
            if (l.Kind == LineKind.EndOfStream)
            {
                return lines;
            }
            lines.Add(l);
        }
    }

    [Fact]
    public async Task Crlf_ends_a_command_line()
    {
        var lines = await ReadAll("EHLO a.test\r\nNOOP\r\n");
        Assert.Equal([new CommandLine(LineKind.Line, "EHLO a.test"), new CommandLine(LineKind.Line, "NOOP")], lines);
    }

    [Fact]
    public async Task Bare_lf_ending_a_command_is_refused_not_taken_as_a_line_end()
    {
        var lines = await ReadAll("NOOP\nQUIT\r\n");
        Assert.Equal(LineKind.BareLineEnding, lines[0].Kind);
        Assert.Equal(new CommandLine(LineKind.Line, "QUIT"), lines[1]);
    }

    [Fact]
    public async Task Bare_cr_inside_a_command_makes_the_whole_line_refused()
    {
        // catalog §2.2 hygiene: RCPT TO:<a@x>\rRCPT TO:<b@y>\r\n must not become two commands
        var lines = await ReadAll("RCPT TO:<a@x.test>\rRCPT TO:<b@y.test>\r\n");
        Assert.Single(lines);
        Assert.Equal(LineKind.BareLineEnding, lines[0].Kind);
    }

    [Fact]
    public async Task Nul_in_a_command_is_refused()
    {
        var lines = await ReadAll("MAIL FROM:<a\0@b.test>\r\n");
        Assert.Equal(LineKind.Nul, lines[0].Kind);
    }

    [Fact]
    public async Task Command_of_512_octets_with_crlf_is_accepted_and_513_is_too_long()
    {
        var ok = "NOOP " + new string('a', 505); // 510 + CRLF = 512
        var tooLong = "NOOP " + new string('a', 506);
        var lines = await ReadAll(ok + "\r\n" + tooLong + "\r\nQUIT\r\n");
        Assert.Equal(LineKind.Line, lines[0].Kind);
        Assert.Equal(LineKind.TooLong, lines[1].Kind);
        Assert.Equal(new CommandLine(LineKind.Line, "QUIT"), lines[2]);
    }

    [Fact]
    public async Task A_huge_line_is_discarded_in_full_and_the_next_command_is_read_intact()
    {
        var lines = await ReadAll(new string('x', 200_000) + "\r\nQUIT\r\n");
        Assert.Equal(2, lines.Count);
        Assert.Equal(LineKind.TooLong, lines[0].Kind);
        Assert.Equal("QUIT", lines[1].Text);
    }

    private static async Task<(DataResult Result, string Stored, CommandLine Next)> Data(string wire, long maxSize = 1_000_000)
    {
        var input = Input(wire);
        var output = new ArrayBufferWriter<byte>();
        var result = await input.ReadDataAsync(output, maxSize, 1000, CancellationToken.None);
        var next = await input.ReadCommandAsync(512, CancellationToken.None);
        return (result, Encoding.Latin1.GetString(output.WrittenSpan), next);
    }

    [Fact]
    public async Task Only_crlf_dot_crlf_ends_data_and_dots_are_unstuffed()
    {
        var (r, stored, next) = await Data("Subject: a\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n");
        Assert.True(r.Completed);
        Assert.Equal(DataProblem.None, r.Problem);
        Assert.Equal("Subject: a\r\n\r\n.leading dot\r\n", stored);
        Assert.Equal("QUIT", next.Text);
    }

    [Fact]
    public async Task Data_that_is_only_the_terminator_is_an_empty_message()
    {
        var (r, stored, _) = await Data(".\r\n");
        Assert.True(r.Completed);
        Assert.Equal("", stored);
    }

    // catalog §2.2: every end-of-data variant of smtpsmug and the SEC Consult scanner, plus the Postfix quirk.
    public static TheoryData<string, string, DataProblem> SmugglingSequences() => new()
    {
        { "lflf", "\n.\n", DataProblem.BareLineEnding },
        { "lfcr", "\n.\r", DataProblem.BareLineEnding },
        { "crlf", "\r.\n", DataProblem.BareLineEnding },
        { "crcr", "\r.\r", DataProblem.BareLineEnding },
        { "lfcrlf", "\n.\r\n", DataProblem.BareLineEnding },
        { "crcrlf", "\r.\r\n", DataProblem.BareLineEnding },
        { "nullbefore", "\r\n\0.\r\n", DataProblem.Nul },
        { "crlflf", "\r\n.\n", DataProblem.BareLineEnding },
        { "crlfcr", "\r\n.\r", DataProblem.BareLineEnding },
        { "nullafter", "\r\n.\0\r\n", DataProblem.Nul },
        { "postfix-crcrlf", "\r\n.\r\r\n", DataProblem.BareLineEnding },
        { "postfix-crcrlf2", "\r\r\n.\r\r\n", DataProblem.BareLineEnding },
    };

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public async Task Smuggled_end_of_data_is_not_an_end_and_the_smuggled_commands_stay_inside(string name, string sequence, DataProblem expected)
    {
        var wire = "Subject: test\r\n\r\nTESTING " + name + "\r\n" + sequence
            + "mail FROM:<smuggled@x.test>\r\nrcpt TO:<alice@example.test>\r\ndata\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n";
        var (r, _, next) = await Data(wire);
        Assert.True(r.Completed);
        Assert.Equal(expected, r.Problem);
        // The real CRLF.CRLF ended the message; what follows is the next command, not the smuggled MAIL.
        Assert.Equal(new CommandLine(LineKind.Line, "QUIT"), next);
    }

    [Fact]
    public async Task Line_of_1000_octets_is_fine_and_1001_is_too_long()
    {
        var ok = new string('a', 998);
        var (r1, _, _) = await Data(ok + "\r\n.\r\n");
        Assert.Equal(DataProblem.None, r1.Problem);
        var (r2, _, next) = await Data(ok + "b\r\n.\r\nQUIT\r\n");
        Assert.Equal(DataProblem.LineTooLong, r2.Problem);
        Assert.Equal("QUIT", next.Text);
    }

    [Fact]
    public async Task An_endless_line_is_read_in_parts_flagged_and_never_split_into_lines()
    {
        var (r, _, next) = await Data(new string('z', 300_000) + "\r\n.\r\nQUIT\r\n");
        Assert.True(r.Completed);
        Assert.Equal(DataProblem.LineTooLong, r.Problem);
        Assert.Equal("QUIT", next.Text);
    }

    [Fact]
    public async Task Message_over_the_size_limit_is_read_to_its_end_and_flagged()
    {
        var body = string.Concat(Enumerable.Repeat(new string('q', 98) + "\r\n", 200));
        var (r, stored, next) = await Data(body + ".\r\nQUIT\r\n", maxSize: 5000);
        Assert.True(r.Completed);
        Assert.Equal(DataProblem.TooBig, r.Problem);
        Assert.True(stored.Length <= 5000);
        Assert.Equal("QUIT", next.Text);
    }

    [Fact]
    public async Task Client_vanishing_in_data_is_reported_as_incomplete()
    {
        var (r, _, _) = await Data("Subject: x\r\n\r\nno end");
        Assert.False(r.Completed);
    }

    [Fact]
    public async Task Buffered_input_is_visible_for_the_pipelining_check()
    {
        var input = Input("EHLO a.test\r\nNOOP\r\n");
        await input.ReadCommandAsync(512, CancellationToken.None);
        Assert.True(input.HasBufferedInput());
        await input.ReadCommandAsync(512, CancellationToken.None);
        Assert.False(input.HasBufferedInput());
    }

    [Fact]
    public async Task Discarding_after_starttls_drops_the_injected_plaintext()
    {
        var input = Input("STARTTLS\r\nNOOP\r\nRSET\r\n");
        await input.ReadCommandAsync(512, CancellationToken.None);
        Assert.Equal(12, input.DiscardBuffered()); // "NOOP\r\nRSET\r\n"
    }
}
