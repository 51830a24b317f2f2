using System.Text.Json.Serialization;

namespace Portcullis.Audit.Reporting;

/// <summary>Status of one check (the JSON schema's "status").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
public enum CheckStatus
{
    [JsonStringEnumMemberName("pass")] Pass,
    [JsonStringEnumMemberName("fail")] Fail,
    [JsonStringEnumMemberName("inconclusive")] Inconclusive,
    [JsonStringEnumMemberName("skipped")] Skipped,
}

/// <summary>How much a failed check matters.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    [JsonStringEnumMemberName("info")] Info,
    [JsonStringEnumMemberName("low")] Low,
    [JsonStringEnumMemberName("medium")] Medium,
    [JsonStringEnumMemberName("high")] High,
    [JsonStringEnumMemberName("critical")] Critical,
}

/// <summary>The verdict on a target (the JSON schema's "verdict"): never "closed" on a timeout.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    [JsonStringEnumMemberName("open")] Open,
    [JsonStringEnumMemberName("closed")] Closed,
    [JsonStringEnumMemberName("inconclusive")] Inconclusive,
}

/// <summary>
/// One check's outcome with the evidence that proves it (a transcript, a canary hit) and the fix for the
/// software found. Part of the stable JSON schema documented in docs/audit-json.md.
/// </summary>
public sealed record CheckResult
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required CheckStatus Status { get; init; }
    public Severity Severity { get; init; } = Severity.Info;
    /// <summary>Short human summary of what was seen ("RCPT <x%y@z> got 250 2.1.5").</summary>
    public string? Summary { get; init; }
    /// <summary>The transcript or other raw proof (C:/S: lines).</summary>
    public string? Evidence { get; init; }
    /// <summary>What to change, for the software found.</summary>
    public string? Fix { get; init; }
    /// <summary>Port the check ran against, when a target has several.</summary>
    public int? Port { get; init; }
    /// <summary>Where the probe came from (catalog section, tool), e.g. "nmap smtp-open-relay #6".</summary>
    public string? Source { get; init; }
}

/// <summary>The report on one target.</summary>
public sealed record AuditReport
{
    public required string Target { get; init; }
    /// <summary>Which audit made the report: "smtp", "proxy", "scan".</summary>
    public string Audit { get; init; } = "smtp";
    /// <summary>The address actually connected to.</summary>
    public string? Address { get; init; }
    public string? Software { get; init; }
    public required Verdict Verdict { get; init; }
    public string? VerdictReason { get; init; }
    public required IReadOnlyList<CheckResult> Checks { get; init; }
    /// <summary>Where the audit ran from (catalog §7: state the vantage point in every report).</summary>
    public string? VantagePoint { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public double DurationSeconds { get; init; }

    [JsonIgnore]
    public bool AnyFailed => Checks.Any(c => c.Status == CheckStatus.Fail);
}
