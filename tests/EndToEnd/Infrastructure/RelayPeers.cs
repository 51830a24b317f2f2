using System.Diagnostics;
using System.Net.Sockets;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The shared relay peers (../shared/peers/relay-peers.sh: Postfix open .20, closed .21, tricky .22/.23,
/// Exim .24, OpenSMTPD .25, world sink .99). Started once when 127.0.0.21:25 does not answer, under a lock
/// file so that two test classes (or two test processes) never start them twice.
/// </summary>
public static class RelayPeers
{
    public const string Open = "127.0.0.20";
    public const string Closed = "127.0.0.21";
    public const string TrickyGateway = "127.0.0.22";
    public const string World = "127.0.0.99";
    private const string RunDir = "/run/mailbench";
    private const string MbRoot = "/var/lib/mailbench";
    private const string MbLog = "/var/log/mailbench";
    private static readonly SemaphoreSlim InProcess = new(1, 1);

    public static async Task EnsureUpAsync()
    {
        await InProcess.WaitAsync();
        try
        {
            if (await AnswersAsync(Closed, 25) && await AnswersAsync(Open, 25) && await AnswersAsync(TrickyGateway, 25))
            {
                return;
            }
            using var fileLock = await FileLock.AcquireAsync("/tmp/portcullis-relay-peers.lock", TimeSpan.FromMinutes(10));
            if (await AnswersAsync(Closed, 25) && await AnswersAsync(Open, 25) && await AnswersAsync(TrickyGateway, 25))
            {
                return;
            }
            var (code, output) = await RunAsync("bash", [Path.Combine(Paths.SharedPeers, "relay-peers.sh")], TimeSpan.FromMinutes(10));
            if (code != 0)
            {
                throw new InvalidOperationException($"relay-peers.sh failed ({code}):\n{output}");
            }
        }
        finally
        {
            InProcess.Release();
        }
    }

    /// <summary>
    /// The peers hand every relayed message to the world sink on 127.0.0.99:25, so a canary that must see
    /// relayed mail has to listen there. This stops only the sink (by the pid relay-peers.sh recorded, after
    /// checking it is smtp-sink), holds a lock so no other test does the same meanwhile, and on dispose starts
    /// the sink again exactly as relay-peers.sh does. The Postfix/Exim/OpenSMTPD peers are not touched.
    /// </summary>
    public static async Task<IAsyncDisposable> BorrowWorldAddressAsync()
    {
        await EnsureUpAsync();
        var fileLock = await FileLock.AcquireAsync("/tmp/portcullis-world-sink.lock", TimeSpan.FromMinutes(5));
        var pidFile = Path.Combine(RunDir, "world-sink.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)
            && File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() == "smtp-sink")
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            await p.WaitForExitAsync();
        }
        for (var i = 0; i < 50 && await AnswersAsync(World, 25); i++)
        {
            await Task.Delay(100);
        }
        return new WorldLease(fileLock);
    }

    private sealed class WorldLease(FileLock fileLock) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                // Same command line as relay-peers.sh (setsid: the sink outlives the test process).
                var script = $"setsid smtp-sink -u nobody -d \"{MbRoot}/world/%Y%m%d/%H%M%S.\" {World}:25 100 >>{MbLog}/world-sink.log 2>&1 </dev/null & echo $! >{RunDir}/world-sink.pid";
                await RunAsync("bash", ["-c", script], TimeSpan.FromSeconds(20));
                for (var i = 0; i < 50 && !await AnswersAsync(World, 25); i++)
                {
                    await Task.Delay(100);
                }
            }
            finally
            {
                fileLock.Dispose();
            }
        }
    }

    public static async Task<bool> AnswersAsync(string host, int port)
    {
        try
        {
            using var c = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await c.ConnectAsync(host, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    /// <summary>An exclusive lock on a file (FileShare.None), polled until acquired.</summary>
    public sealed class FileLock : IDisposable
    {
        private readonly FileStream _stream;

        private FileLock(FileStream stream) => _stream = stream;

        public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                try
                {
                    return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                }
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
