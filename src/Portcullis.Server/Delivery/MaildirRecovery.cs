namespace Portcullis.Server.Delivery;

/// <summary>What <see cref="MaildirWriter.RecoverStaged"/> found in the Maildirs' tmp/ directories at start.</summary>
public sealed class MaildirRecovery
{
    /// <summary>Copies complete in tmp/ only, now in new/ (each possibly acknowledged before a crash).</summary>
    public List<string> Restored { get; } = [];

    /// <summary>tmp/ names of copies already in new/ or cur/, removed.</summary>
    public int Released { get; set; }

    /// <summary>Copies cut short by the crash (never acknowledged), removed.</summary>
    public int Discarded { get; set; }

    /// <summary>What could not be finished (left as it was, for the next start), and why.</summary>
    public List<(string Path, string Error)> Failed { get; } = [];
}
