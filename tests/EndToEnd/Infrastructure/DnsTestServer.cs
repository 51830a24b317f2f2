using System.Collections.Concurrent;
using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real DNS server on a loopback address (ARSoft.Tools.Net's DnsServer, UDP and TCP), answering from
/// records the test sets: MX, A, TXT and PTR. Names it does not know get NXDOMAIN, so a
/// lookup never leaves the machine. The program under test points delivery.dns_servers here.
/// </summary>
public sealed class DnsTestServer : IDisposable
{
    private readonly DnsServer _server;
    private readonly ConcurrentDictionary<(string Name, RecordType Type), List<DnsRecordBase>> _records = new();
    private readonly ConcurrentDictionary<string, bool> _names = new(StringComparer.OrdinalIgnoreCase);

    public DnsTestServer(IPEndPoint endpoint)
    {
        Endpoint = endpoint;
        _server = new DnsServer(new UdpServerTransport(endpoint), new TcpServerTransport(endpoint));
        _server.QueryReceived += OnQueryAsync;
        _server.Start();
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>"ADDRESS:PORT" for delivery.dns_servers.</summary>
    public string Setting => $"{Endpoint.Address}:{Endpoint.Port}";

    public void AddMx(string domain, ushort preference, string exchange) =>
        Add(domain, RecordType.Mx, new MxRecord(DomainName.Parse(domain), 60, preference, exchange == "." ? DomainName.Root : DomainName.Parse(exchange)));

    public void AddA(string name, string address) =>
        Add(name, RecordType.A, new ARecord(DomainName.Parse(name), 60, IPAddress.Parse(address)));

    /// <summary>A PTR record for an IPv4 address (RFC 1035 §3.5: the octets reversed under in-addr.arpa).</summary>
    public void AddPtr(string address, string name)
    {
        var reverse = string.Join(".", Enumerable.Reverse(IPAddress.Parse(address).GetAddressBytes())) + ".in-addr.arpa";
        Add(reverse, RecordType.Ptr, new PtrRecord(DomainName.Parse(reverse), 60, DomainName.Parse(name)));
    }

    /// <summary>Replaces the TXT records of <paramref name="name"/> with one record (e.g. a new DKIM key).</summary>
    public void SetTxt(string name, string text)
    {
        _records.TryRemove((name.TrimEnd('.').ToLowerInvariant(), RecordType.Txt), out _);
        AddTxt(name, text);
    }

    public void AddTxt(string name, string text)
    {
        // A TXT string holds at most 255 octets (RFC 1035 §3.3.14): long DKIM keys are split.
        var parts = Enumerable.Range(0, (text.Length + 249) / 250).Select(i => text.Substring(i * 250, Math.Min(250, text.Length - i * 250)));
        Add(name, RecordType.Txt, new TxtRecord(DomainName.Parse(name), 60, parts));
    }

    /// <summary>Makes the name exist with no records of any type (NOERROR, empty answer).</summary>
    public void AddEmptyName(string name) => _names[name.TrimEnd('.')] = true;

    private void Add(string name, RecordType type, DnsRecordBase record)
    {
        var key = (name.TrimEnd('.').ToLowerInvariant(), type);
        _names[key.Item1] = true;
        var list = _records.GetOrAdd(key, _ => []);
        lock (list)
        {
            list.Add(record);
        }
    }

    private Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
        {
            return Task.CompletedTask;
        }
        var response = query.CreateResponseInstance();
        var question = query.Questions[0];
        var name = question.Name.ToString().TrimEnd('.').ToLowerInvariant();
        if (_records.TryGetValue((name, question.RecordType), out var list))
        {
            lock (list)
            {
                response.AnswerRecords.AddRange(list);
            }
            response.ReturnCode = ReturnCode.NoError;
        }
        else
        {
            response.ReturnCode = _names.ContainsKey(name) ? ReturnCode.NoError : ReturnCode.NxDomain;
        }
        response.IsAuthoritiveAnswer = true;
        e.Response = response;
        return Task.CompletedTask;
    }

    public void Dispose() => _server.Stop();
}
