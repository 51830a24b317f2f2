using System.Net;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Scan;

namespace Portcullis.Audit.Tests.Scan;

public class ScanJournalTests
{
    [Fact]
    public void Journal_reads_back_header_checkpoint_opens_and_reports_and_ignores_a_torn_last_line()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var j = ScanJournal.Create(path, append: false))
            {
                j.Header(new ScanHeader { Targets = ["192.0.2.0/24"], Ports = [25, 1080], SmtpPorts = [25], Smtp = true, Proxy = true, Endpoints = 512 });
                j.Open(new OpenPort(IPAddress.Parse("192.0.2.7"), 25, 14, "smtp"));
                j.Checkpoint(100);
                j.Report(new AuditReport
                {
                    Target = "192.0.2.7:25",
                    Audit = "smtp",
                    Address = "192.0.2.7",
                    Verdict = Verdict.Closed,
                    Checks = [new CheckResult { Id = "smtp.relay-candidate", Title = "t", Status = CheckStatus.Pass, Port = 25 }],
                });
                j.Checkpoint(300);
            }
            File.AppendAllText(path, "{\"type\":\"open\",\"addr");
            var state = ScanJournal.Read(path);
            Assert.Equal(["192.0.2.0/24"], state.Header.Targets);
            Assert.Equal(512, state.Header.Endpoints);
            Assert.Equal(300, state.Checkpoint);
            Assert.False(state.DiscoveryDone);
            var open = Assert.Single(state.Opens);
            Assert.Equal(14, open.Index);
            var report = Assert.Single(state.Reports);
            Assert.Equal(Verdict.Closed, report.Verdict);
            Assert.True(state.Reported(open));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
