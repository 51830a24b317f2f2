using System.Net;
using DnsClient;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>DKIM public keys from the test DNS server (RFC 6376 §3.6.2: TXT at selector._domainkey.domain), for MimeKit's DkimVerifier.</summary>
public sealed class DnsDkimKeyLocator(IPEndPoint dns) : DkimPublicKeyLocatorBase
{
    private readonly LookupClient _client = new(new LookupClientOptions(dns) { UseCache = false });

    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

    public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        var response = await _client.QueryAsync($"{selector}._domainkey.{domain}", QueryType.TXT, QueryClass.IN, cancellationToken);
        return GetPublicKey(string.Concat(response.Answers.TxtRecords().Single().Text));
    }
}
