using System.Net;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.Server.Tests.Remote;

/// <summary>
/// The outside world the delivery tests send to, all real and on loopback: a DNS server on 127.0.5.2
/// and a Postfix MX on 127.0.5.20:25. Zone: remote.test MX 10 mx.remote.test (127.0.5.20); backup.test
/// MX 10 dead.backup.test (127.0.5.99, nothing listens) and MX 20 mx.remote.test; implicit.test has no
/// MX, only an A record; nullmx.test has the null MX "0 ." (RFC 7505); loop.test's MX is 127.0.5.40,
/// where the loop test's own listener is configured. Any other name is NXDOMAIN.
/// </summary>
public sealed class RemoteWorld : IDisposable
{
    public const string MxAddress = "127.0.5.20";
    public const string OwnListenerAddress = "127.0.5.40";

    public RemoteWorld()
    {
        Dns = new DnsTestServer(new IPEndPoint(IPAddress.Parse("127.0.5.2"), 10053));
        Dns.AddMx("remote.test", 10, "mx.remote.test");
        Dns.AddA("mx.remote.test", MxAddress);
        Dns.AddMx("backup.test", 10, "dead.backup.test");
        Dns.AddMx("backup.test", 20, "mx.remote.test");
        Dns.AddA("dead.backup.test", "127.0.5.99");
        Dns.AddA("implicit.test", MxAddress);
        Dns.AddMx("nullmx.test", 0, ".");
        Dns.AddMx("loop.test", 10, "mx.loop.test");
        Dns.AddA("mx.loop.test", OwnListenerAddress);
        Mx = RemoteMxPostfix.Start(MxAddress, ["later@remote.test"]);
    }

    public DnsTestServer Dns { get; }
    public RemoteMxPostfix Mx { get; }


    public void Dispose()
    {
        Mx.Dispose();
        Dns.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class RemoteWorldCollection : ICollectionFixture<RemoteWorld>
{
    public const string Name = "remote world (DNS + Postfix MX on 127.0.5.x)";
}
