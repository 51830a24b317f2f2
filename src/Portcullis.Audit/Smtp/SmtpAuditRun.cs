using System.Collections.Concurrent;
using System.Net;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Smtp;

/// <summary>
/// Expands targets (a domain becomes its MX hosts) and audits them with bounded concurrency, never more
/// than one audit (hence one connection) at a time per address. Reports come back in the order given.
/// </summary>
public sealed class SmtpAuditRun(SmtpAuditOptions options, MxResolver? dns, bool useSystemResolver, int concurrency, ConnectionPacer pacer, Action<string> log)
{
    public sealed record Resolved(string Name, IPAddress Address, string? Domain, IReadOnlyList<int> Ports);

    /// <summary>Resolves a typed target to the hosts to audit.</summary>
    public async Task<IReadOnlyList<Resolved>> ResolveAsync(SmtpTargetSpec spec, CancellationToken ct)
    {
        var ports = spec.Port is { } p ? [p] : options.Ports;
        if (IPAddress.TryParse(spec.Host, out var ip))
        {
            return [new(spec.Host, ip, null, ports)];
        }
        if (spec.Port is null && dns is not null)
        {
            // A bare name may be a mail domain: audit every MX host (RFC 5321 §5.1).
            try
            {
                var mx = await dns.ResolveAsync(spec.Host, ct).ConfigureAwait(false);
                if (mx.Count > 0 && !mx[0].Implicit)
                {
                    log($"{spec.Host}: MX hosts {string.Join(", ", mx.Select(m => $"{m.Host} ({m.Preference})"))}");
                    return mx.SelectMany(m => m.Addresses.Take(1).Select(a => new Resolved(m.Host, a, spec.Host, ports))).ToList();
                }
                if (mx.Count > 0 && !useSystemResolver)
                {
                    return [new(spec.Host, mx[0].Addresses[0], null, ports)];
                }
            }
            catch (Exception e) when (e is DnsLookupException or DnsClient.DnsResponseException or System.Net.Sockets.SocketException)
            {
                log($"{spec.Host}: MX lookup failed ({e.Message}); auditing it as a host");
            }
        }
        var addrs = useSystemResolver || dns is null
            ? await Dns.GetHostAddressesAsync(spec.Host, ct).ConfigureAwait(false)
            : [.. await dns.ResolveAddressesAsync(spec.Host, ct).ConfigureAwait(false)];
        return addrs.Length == 0
            ? throw new InvalidOperationException($"{spec.Host}: no address")
            : [new(spec.Host, addrs.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).First(), null, ports)];
    }

    public async Task<IReadOnlyList<AuditReport>> AuditAsync(IReadOnlyList<Resolved> hosts, CancellationToken ct)
    {
        var perAddress = new ConcurrentDictionary<IPAddress, SemaphoreSlim>();
        using var slots = new SemaphoreSlim(Math.Max(1, concurrency));
        var tasks = hosts.Select(async h =>
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
            var one = perAddress.GetOrAdd(h.Address, _ => new SemaphoreSlim(1, 1));
            await one.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                log($"auditing {h.Name} ({h.Address}) ports {string.Join(",", h.Ports)}");
                var auditor = new SmtpAuditor(options with { Ports = h.Ports }, pacer.WaitAsync, log);
                var report = await auditor.AuditAsync(h.Name, h.Address, h.Domain, ct).ConfigureAwait(false);
                log($"{h.Name}: {report.Verdict.ToString().ToLowerInvariant()} ({report.DurationSeconds:0.0} s)");
                return report;
            }
            finally
            {
                one.Release();
                slots.Release();
            }
        }).ToList();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
