using System.Diagnostics;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// A third-party scanner's opinion: nmap's smtp-open-relay (catalog §1.1) finds no open relay. nmap
/// only runs the script on the SMTP ports, so this server listens on port 25 of its loopback address.
/// </summary>
public sealed class NmapProbeTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    // nmap runs its 16 tests on one connection; with the default error limit (10) the server would hang
    // up on it part-way, so this instance allows 20 errors to let nmap finish every test.
    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync("[limits]\nmax_errors = 20\n", port: 25);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("example.test")]
    [InlineData("nmap.scanme.org")]
    public async Task Nmap_smtp_open_relay_runs_all_16_tests_and_finds_no_open_relay(string domain)
    {
        var output = await NmapAsync(domain);
        Assert.DoesNotContain("Server is an open relay", output);
        Assert.Contains("Server doesn't seem to be an open relay, all tests failed", output);
    }

    private async Task<string> NmapAsync(string domain)
    {
        var psi = new ProcessStartInfo("nmap")
        {
            ArgumentList = { "-n", "-Pn", "-p", "25", "--script", "smtp-open-relay",
                "--script-args", $"smtp-open-relay.domain={domain},smtp-open-relay.ip={_server.Host}", _server.Host },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("smtp-open-relay", output);
        return output;
    }
}
