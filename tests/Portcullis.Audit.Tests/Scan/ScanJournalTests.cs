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

    [Fact]
    public void Journal_header_keeps_the_options_that_shape_the_scan_for_resume()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var j = ScanJournal.Create(path, append: false))
            {
                j.Header(new ScanHeader
                {
                    Targets = ["192.0.2.0/24"],
                    Ports = [1080],
                    SmtpPorts = [25],
                    Proxy = true,
                    Endpoints = 256,
                    Concurrency = 7,
                    Rate = 12.5,
                    ConnectTimeout = 0.75,
                    AuditConcurrency = 3,
                    HostConnections = 2,
                    Timeout = 4,
                    DnsServer = "127.0.0.53",
                });
            }
            var h = ScanJournal.Read(path).Header;
            Assert.Equal(7, h.Concurrency);
            Assert.Equal(12.5, h.Rate);
            Assert.Equal(0.75, h.ConnectTimeout);
            Assert.Equal(3, h.AuditConcurrency);
            Assert.Equal(2, h.HostConnections);
            Assert.Equal(4, h.Timeout);
            Assert.Equal("127.0.0.53", h.DnsServer);

            // A journal from before these were recorded resumes with the defaults (null = not recorded).
            File.WriteAllText(path, "{\"type\":\"scan\",\"targets\":[\"192.0.2.0/24\"],\"ports\":[25],\"smtpPorts\":[25],\"smtp\":true,\"proxy\":false,\"endpoints\":256}\n");
            var old = ScanJournal.Read(path).Header;
            Assert.Null(old.Rate);
            Assert.Null(old.Concurrency);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
