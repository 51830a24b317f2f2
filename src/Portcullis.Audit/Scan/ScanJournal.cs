using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Scan;

/// <summary>What a scan was asked to do: written first in the journal so `--resume FILE` alone can continue it.</summary>
public sealed record ScanHeader
{
    public required IReadOnlyList<string> Targets { get; init; }
    public required IReadOnlyList<int> Ports { get; init; }
    public required IReadOnlyList<int> SmtpPorts { get; init; }
    public bool Smtp { get; init; }
    public bool Proxy { get; init; }
    /// <summary>Endpoints in the scan; a resumed scan must number them the same way.</summary>
    public long Endpoints { get; init; }
    /// <summary>The proof targets and step timeout, so a resumed scan audits the same way.</summary>
    public string? CanaryListen { get; init; }
    public string? CanaryAdvertise { get; init; }
    public string? ThroughTo { get; init; }
    public double? Timeout { get; init; }
    public string? SmtpCanaryListen { get; init; }
    public string? SmtpCanaryDomain { get; init; }
    /// <summary>The user confirmed --authorized when starting the scan.</summary>
    public bool Authorized { get; init; }
    /// <summary>The --discovery asked for (auto, syn or connect); null in journals written before it was recorded.</summary>
    public string? Discovery { get; init; }
    /// <summary>
    /// How hard the scan may push (--concurrency, --rate, --connect-timeout, --audit-concurrency,
    /// --host-connections) and where domain targets were resolved (--dns-server): a resumed scan keeps them
    /// unless they are given again, so an operator's agreed rate is not lost by an interruption.
    /// Null in journals written before these were recorded.
    /// </summary>
    public int? Concurrency { get; init; }
    public double? Rate { get; init; }
    public double? ConnectTimeout { get; init; }
    public int? AuditConcurrency { get; init; }
    public int? HostConnections { get; init; }
    public string? DnsServer { get; init; }
}

/// <summary>An open port found by discovery, and the audit it gets ("smtp", "proxy" or "none").</summary>
public sealed record OpenPort(IPAddress Address, int Port, long Index, string Service)
{
    public string Key => Address + "|" + Port.ToString(CultureInfo.InvariantCulture);
    public IPEndPoint EndPoint => new(Address, Port);
}

/// <summary>What a journal says a previous run already did.</summary>
public sealed record ResumeState(ScanHeader Header, long Checkpoint, bool DiscoveryDone, IReadOnlyList<OpenPort> Opens, IReadOnlyList<AuditReport> Reports)
{
    public bool Reported(OpenPort p) => Reports.Any(r => r.Address == p.Address.ToString() && r.Checks.Any(c => c.Port == p.Port));
}

/// <summary>
/// The scan's JSON-lines stream (--jsonl): one object per line, each with a "type": "scan" (the header),
/// "open" (a port that accepted), "checkpoint" (every endpoint numbered below "next" was tried),
/// "discovery" (discovery finished), "report" (one audit report, schema of docs/audit-json.md) and
/// "done". Lines are flushed as written, so an interrupted scan leaves a journal to --resume from.
/// </summary>
public sealed class ScanJournal : IDisposable
{
    private static readonly JsonSerializerOptions LineOptions = new(JsonReport.Options) { WriteIndented = false };
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    private ScanJournal(StreamWriter writer) => _writer = writer;

    public static ScanJournal Create(string path, bool append) =>
        new(new StreamWriter(new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)));

    public void Header(ScanHeader h) => Write(new JsonObject
    {
        ["type"] = "scan",
        ["targets"] = new JsonArray([.. h.Targets.Select(t => (JsonNode)t)]),
        ["ports"] = new JsonArray([.. h.Ports.Select(p => (JsonNode)p)]),
        ["smtpPorts"] = new JsonArray([.. h.SmtpPorts.Select(p => (JsonNode)p)]),
        ["smtp"] = h.Smtp,
        ["proxy"] = h.Proxy,
        ["endpoints"] = h.Endpoints,
        ["canaryListen"] = h.CanaryListen,
        ["canaryAdvertise"] = h.CanaryAdvertise,
        ["throughTo"] = h.ThroughTo,
        ["timeout"] = h.Timeout,
        ["smtpCanaryListen"] = h.SmtpCanaryListen,
        ["smtpCanaryDomain"] = h.SmtpCanaryDomain,
        ["authorized"] = h.Authorized,
        ["discovery"] = h.Discovery,
        ["concurrency"] = h.Concurrency,
        ["rate"] = h.Rate,
        ["connectTimeout"] = h.ConnectTimeout,
        ["auditConcurrency"] = h.AuditConcurrency,
        ["hostConnections"] = h.HostConnections,
        ["dnsServer"] = h.DnsServer,
        ["at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    });

    public void Open(OpenPort p) => Write(new JsonObject
    {
        ["type"] = "open",
        ["address"] = p.Address.ToString(),
        ["port"] = p.Port,
        ["index"] = p.Index,
        ["service"] = p.Service,
    });

    public void Checkpoint(long next) => Write(new JsonObject { ["type"] = "checkpoint", ["next"] = next });

    public void DiscoveryDone(long tried, long open, double seconds) => Write(new JsonObject
    {
        ["type"] = "discovery",
        ["tried"] = tried,
        ["open"] = open,
        ["seconds"] = Math.Round(seconds, 3),
    });

    public void Report(AuditReport report) => Write(new JsonObject
    {
        ["type"] = "report",
        ["report"] = JsonSerializer.SerializeToNode(report, LineOptions),
    });

    public void Done(int reports, int open, double seconds) => Write(new JsonObject
    {
        ["type"] = "done",
        ["reports"] = reports,
        ["open"] = open,
        ["seconds"] = Math.Round(seconds, 3),
    });

    private void Write(JsonObject o)
    {
        var line = o.ToJsonString(LineOptions);
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    /// <summary>Reads a journal back. A torn last line (the scan was killed mid-write) is ignored.</summary>
    public static ResumeState Read(string path)
    {
        ScanHeader? header = null;
        long checkpoint = 0;
        var discoveryDone = false;
        var opens = new Dictionary<string, OpenPort>();
        var reports = new List<AuditReport>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }
            switch ((string?)node?["type"])
            {
                case "scan":
                    header = new ScanHeader
                    {
                        Targets = [.. node!["targets"]!.AsArray().Select(t => (string)t!)],
                        Ports = [.. node["ports"]!.AsArray().Select(p => (int)p!)],
                        SmtpPorts = [.. node["smtpPorts"]!.AsArray().Select(p => (int)p!)],
                        Smtp = (bool)node["smtp"]!,
                        Proxy = (bool)node["proxy"]!,
                        Endpoints = (long)node["endpoints"]!,
                        CanaryListen = (string?)node["canaryListen"],
                        CanaryAdvertise = (string?)node["canaryAdvertise"],
                        ThroughTo = (string?)node["throughTo"],
                        Timeout = (double?)node["timeout"],
                        SmtpCanaryListen = (string?)node["smtpCanaryListen"],
                        SmtpCanaryDomain = (string?)node["smtpCanaryDomain"],
                        Authorized = (bool?)node["authorized"] ?? false,
                        Discovery = (string?)node["discovery"],
                        Concurrency = (int?)node["concurrency"],
                        Rate = (double?)node["rate"],
                        ConnectTimeout = (double?)node["connectTimeout"],
                        AuditConcurrency = (int?)node["auditConcurrency"],
                        HostConnections = (int?)node["hostConnections"],
                        DnsServer = (string?)node["dnsServer"],
                    };
                    break;
                case "open":
                    var p = new OpenPort(IPAddress.Parse((string)node!["address"]!), (int)node["port"]!, (long)node["index"]!, (string)node["service"]!);
                    opens.TryAdd(p.Key, p);
                    break;
                case "checkpoint":
                    checkpoint = Math.Max(checkpoint, (long)node!["next"]!);
                    break;
                case "discovery":
                    discoveryDone = true;
                    break;
                case "report":
                    if (node!["report"].Deserialize<AuditReport>(LineOptions) is { } r)
                    {
                        reports.Add(r);
                    }
                    break;
            }
        }
        if (header is null)
        {
            throw new FormatException($"{path}: not a scan journal (no \"scan\" line); it is written by `portcullis scan --jsonl FILE`");
        }
        return new ResumeState(header, checkpoint, discoveryDone, [.. opens.Values.OrderBy(o => o.Index)], reports);
    }

    public void Dispose() => _writer.Dispose();
}
