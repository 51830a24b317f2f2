using System.Diagnostics;
using System.Net.Sockets;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>One proxy peer from /run/proxy-peers/peers.psv (written by ../shared/peers/proxy-peers.sh).</summary>
public sealed record ProxyPeer(string Name, string Address, int Port, string Software, string Kind, string Expected)
{
    /// <summary>The table's verdict for an outsider: "OPEN", "GET OPEN, CONNECT:25 CLOSED", "CLOSED (403)"...: open if any path is open.</summary>
    public bool ExpectedOpen => Expected.Contains("OPEN", StringComparison.Ordinal);
    public string HostPort => $"{Address}:{Port}";
}

/// <summary>
/// Starts the shared proxy peers (Squid, Dante, tinyproxy, microsocks, WinGate and 200-trap emulations, and
/// their canary SMTP on 127.0.0.50:25) when they are not already up, reads their table, and stops them
/// afterwards if it started them. A lock file keeps two test runs from starting them twice.
/// </summary>
public sealed class ProxyPeersFixture : IAsyncLifetime
{
    public const string Run = "/run/proxy-peers";
    private const string LockPath = "/tmp/portcullis-proxy-peers.lock";
    private bool _started;

    public IReadOnlyList<ProxyPeer> Peers { get; private set; } = [];

    /// <summary>The peers' own SMTP canary, the --through-to target they can all reach.</summary>
    public string CanarySmtp { get; private set; } = "127.0.0.50:25";

    public ProxyPeer Peer(string name) => Peers.SingleOrDefault(p => p.Name == name)
        ?? throw new InvalidOperationException($"{name} is not in {Run}/peers.psv");

    public async Task InitializeAsync()
    {
        using (var lockFile = await AcquireLockAsync())
        {
            if (!await UpAsync())
            {
                var script = Path.Combine(Paths.SharedPeers, "proxy-peers.sh");
                var (code, output) = await RunAsync("bash", script, TimeSpan.FromMinutes(15));
                if (code != 0)
                {
                    throw new InvalidOperationException($"{script} failed ({code}):\n{output}");
                }
                _started = true;
            }
        }
        var rows = await File.ReadAllLinesAsync(Path.Combine(Run, "peers.psv"));
        var peers = new List<ProxyPeer>();
        foreach (var row in rows.Where(r => r.Length > 0))
        {
            var f = row.Split('|');
            // name|addr|port|software|kind|config|expected (outsider)|expected (insider); targets and infra have no verdict
            if (f.Length < 7 || f[6] is "target" or "infra" or "")
            {
                if (f.Length >= 3 && f[0] == "canary-smtp")
                {
                    CanarySmtp = $"{f[1]}:{f[2]}";
                }
                continue;
            }
            peers.Add(new ProxyPeer(f[0], f[1], int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), f[3], f[4], f[6]));
        }
        Peers = peers;
    }

    public async Task DisposeAsync()
    {
        if (_started)
        {
            await RunAsync("bash", Path.Combine(Paths.SharedPeers, "proxy-peers-stop.sh"), TimeSpan.FromMinutes(1));
        }
    }

    private static async Task<bool> UpAsync()
    {
        if (!File.Exists(Path.Combine(Run, "peers.psv")))
        {
            return false;
        }
        try
        {
            using var c = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await c.ConnectAsync("127.0.0.30", 3128, cts.Token);
            using var c2 = new TcpClient();
            await c2.ConnectAsync("127.0.0.50", 25, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<FileStream> AcquireLockAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(15);
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string arg, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }
}

[CollectionDefinition("proxy-peers")]
public sealed class ProxyPeersCollection : ICollectionFixture<ProxyPeersFixture>;
