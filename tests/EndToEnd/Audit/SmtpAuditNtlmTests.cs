using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// A real Exim 4.96 (Debian's exim4-daemon-heavy, unpacked by tests/peers/exim-ntlm.sh) offering AUTH NTLM
/// through Cyrus SASL on 127.0.1.140:25, for as long as the test class runs.
/// </summary>
public sealed class EximNtlmServer : IAsyncLifetime
{
    public const string Address = "127.0.1.140";
    private const string Root = "/var/lib/portcullis-tests/exim-ntlm";
    private static string Script => Path.Combine(Paths.RepoRoot, "tests", "peers", "exim-ntlm.sh");

    public async Task InitializeAsync()
    {
        // A daemon left by an interrupted run is stopped first (by its recorded pid).
        await RelayPeers.RunAsync("bash", [Script, "stop", Root], TimeSpan.FromSeconds(30));
        var (code, output) = await RelayPeers.RunAsync("bash", [Script, "start", Root], TimeSpan.FromMinutes(3));
        Assert.True(code == 0, "exim-ntlm.sh failed:\n" + output);
    }

    public async Task DisposeAsync() => await RelayPeers.RunAsync("bash", [Script, "stop", Root], TimeSpan.FromSeconds(30));
}

/// <summary>Catalog §4 "NTLM info leak", against real servers.</summary>
public sealed class SmtpAuditNtlmTests(EximNtlmServer exim) : IClassFixture<EximNtlmServer>
{
    private static JsonElement Check(JsonElement report, string id) =>
        report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    [Fact]
    public async Task Exim_offering_auth_ntlm_leaks_its_host_name_in_the_challenge()
    {
        _ = exim;
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", EximNtlmServer.Address, "--json"], timeout: TimeSpan.FromSeconds(60));
        var r = JsonDocument.Parse(stdout).RootElement;
        Assert.StartsWith("Exim", r.GetProperty("software").GetString());
        var ntlm = Check(r, "auth.ntlm-info");
        Assert.True(ntlm.GetProperty("status").GetString() == "fail", ntlm.ToString() + "\n" + stderr);
        Assert.Equal("medium", ntlm.GetProperty("severity").GetString());
        Assert.Contains("Target_Name: MX.NTLM.TEST", ntlm.GetProperty("summary").GetString());
        var evidence = ntlm.GetProperty("evidence").GetString()!;
        // nmap's NEGOTIATE went out, a CHALLENGE came back, and the exchange was cancelled with "*".
        Assert.Contains("C: AUTH NTLM", evidence);
        Assert.Contains("C: TlRMTVNTUAABAAAAB4IIoAAAAAAAAAAAAAAAAAAAAAA=", evidence);
        Assert.Contains("S: 334 TlRMTVNTUAACAAAA", evidence);
        Assert.Contains("C: *", evidence);
        Assert.Contains("S: 501", evidence);
        Assert.Contains("server_mech = ntlm", ntlm.GetProperty("fix").GetString());
        Assert.Equal(1, exit);
    }
}
