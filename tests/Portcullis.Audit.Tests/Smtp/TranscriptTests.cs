using Portcullis.Audit.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class TranscriptTests
{
    [Fact]
    public void Client_lines_split_on_crlf_and_bare_cr_lf_nul_stay_visible()
    {
        var t = new Transcript();
        t.Client("body\r\n\n.\n");
        t.Client("RCPT TO:<a@x>\rRCPT TO:<b@y>\r\n");
        t.Server("250 2.0.0 Ok");
        Assert.Equal("C: body\nC: \\n.\\n (no CRLF)\nC: RCPT TO:<a@x>\\rRCPT TO:<b@y>\nS: 250 2.0.0 Ok", t.ToString());
    }

    [Fact]
    public void Since_returns_only_the_lines_after_a_mark()
    {
        var t = new Transcript();
        t.Client("EHLO x\r\n");
        var mark = t.Mark();
        t.Client("MAIL FROM:<>\r\n");
        Assert.Equal("C: MAIL FROM:<>", t.Since(mark));
        Assert.Equal("\\r\\n\\x00.\\r\\n", Transcript.Escape("\r\n\0.\r\n"));
    }
}
