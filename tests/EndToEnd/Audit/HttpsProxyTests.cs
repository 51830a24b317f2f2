using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// `audit proxy` against a real Squid that speaks TLS on its proxy port (https_port): libopm's HTTPS type,
/// CONNECT inside TLS (catalog §5.2), proven through the built-in canary on 127.0.6.12.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class HttpsProxyTests
{
    [Fact]
    public async Task Squid_https_port_open_to_all_is_proven_open_inside_tls_and_the_closed_one_is_closed()
    {
        await using var squid = await SquidHttpsProxy.StartAsync();
        // A mail server for --through-to: its greeting must come back through the TLS tunnel too.
        await using var mx = new Portcullis.Audit.Tests.Proxy.LoopbackServer("127.0.6.13", ProxyPeersLocal.Smtp("mx.https-test", "554 5.7.1 no"), port: 25);
        var open = $"{SquidHttpsProxy.OpenAddress}:{SquidHttpsProxy.Port}";
        var closed = $"{SquidHttpsProxy.ClosedAddress}:{SquidHttpsProxy.Port}";
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "proxy", open, closed, "--protocols", "https-connect,https-post,http-connect,socks5",
             "--canary-listen", "127.0.6.12:0", "--through-to", "127.0.6.13:25", "--timeout", "2", "--json"], timeout: TimeSpan.FromMinutes(1));
        Assert.True(code == 1, $"exit {code}\n{stderr}\n{stdout}");
        using var doc = JsonDocument.Parse(stdout);
        var reports = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("reports");
        var byTarget = reports.EnumerateArray().ToDictionary(r => r.GetProperty("target").GetString()!);

        var o = byTarget[open];
        Assert.Equal("open", o.GetProperty("verdict").GetString());
        var checks = o.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
        var https = checks["proxy.https-connect"];
        Assert.Equal("fail", https.GetProperty("status").GetString());
        var evidence = https.GetProperty("evidence").GetString()!;
        Assert.Contains("CN=portcullis-test-squid", evidence, StringComparison.Ordinal); // the TLS session to Squid
        Assert.Contains("200 Connection established", evidence, StringComparison.Ordinal);
        Assert.Contains("220 portcullis-canary PCX", evidence, StringComparison.Ordinal); // the canary, through the tunnel
        var summary = https.GetProperty("summary").GetString()!;
        Assert.Contains("canary token", summary, StringComparison.Ordinal);
        Assert.Contains("220 mx.https-test ESMTP", summary, StringComparison.Ordinal); // the --through-to proof
        // Squid relays a POST with an absolute URI inside TLS too (libopm's HTTPSPOST).
        Assert.Equal("fail", checks["proxy.https-post"].GetProperty("status").GetString());
        // Plain-text requests to a TLS port are not proxy traffic.
        Assert.NotEqual("fail", checks["proxy.http-connect"].GetProperty("status").GetString());
        Assert.NotEqual("fail", checks["proxy.socks5"].GetProperty("status").GetString());

        var c = byTarget[closed];
        Assert.Equal("closed", c.GetProperty("verdict").GetString());
        var refused = c.GetProperty("checks").EnumerateArray().Single(x => x.GetProperty("id").GetString() == "proxy.https-connect");
        Assert.Equal("pass", refused.GetProperty("status").GetString());
        Assert.Contains("403", refused.GetProperty("summary").GetString()!, StringComparison.Ordinal);
    }
}
