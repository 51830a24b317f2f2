namespace Portcullis.Audit.Reporting;

/// <summary>Exit codes shared by every audit command: 0 nothing failed, 1 a check failed, 3 inconclusive, 2 usage or other error.</summary>
public static class ExitCodes
{
    public const int Clean = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Inconclusive = 3;

    public static int For(IEnumerable<AuditReport> reports)
    {
        var list = reports.ToList();
        if (list.Any(r => r.AnyFailed || r.Verdict == Verdict.Open))
        {
            return Failed;
        }
        if (list.Any(r => r.Verdict == Verdict.Inconclusive || r.Checks.Any(c => c.Status == CheckStatus.Inconclusive)))
        {
            return Inconclusive;
        }
        return Clean;
    }
}
