using System.Diagnostics;
using System.Net;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>Issue 5: one HOST:PORT finishes within its budget (60 s by default), however the host stalls.</summary>
public class ProxyBudgetTests
{
    [Fact]
    public async Task A_port_that_accepts_and_never_answers_is_cut_off_within_its_budget_and_inconclusive()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.93"), 0));
        // Accepts, reads, never says a word: every probe would wait out its reply timeout (11 protocols x 2 s).
        await using var silent = new LoopbackServer("127.0.6.94", async (s, ct) =>
        {
            var buffer = new byte[512];
            while (await s.ReceiveAsync(buffer, ct) > 0)
            {
            }
        });
        var d = new CanaryDestination(canary, "127.0.6.93", canary.LocalEndPoint.Port);
        var budget = TimeSpan.FromSeconds(5);
        var clock = Stopwatch.StartNew();
        var report = await ProxyAuditor.AuditAsync("silent", silent.EndPoint.Address, [silent.EndPoint.Port], [d],
            new ProxyAuditOptions { Timeouts = QuickTimeouts.With(), PerPortBudget = budget }, CancellationToken.None);
        clock.Stop();
        Assert.True(clock.Elapsed < budget, $"took {clock.Elapsed.TotalSeconds:0.00} s for a {budget.TotalSeconds} s budget");
        Assert.Equal(Verdict.Inconclusive, report.Verdict);
        Assert.Contains(report.Checks, c => c.Summary?.Contains("the time allowed for this port ran out", StringComparison.Ordinal) == true);
    }
}
