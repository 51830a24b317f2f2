using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Runs the real `portcullis` program (the built dll) as a child process: one-shot commands with their
/// output, or a long-running `serve` that is killed when disposed.
/// </summary>
public sealed class PortcullisProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private PortcullisProcess(Process process)
    {
        _process = process;
    }

    public string StandardOutput { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string StandardError { get { lock (_stderr) { return _stderr.ToString(); } } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public int Pid => _process.Id;

    /// <summary>Waits for the process to end and for the last of its output to be read (HasExited may be true before that).</summary>
    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <param name="launcher">A program (and its arguments) that runs `dotnet portcullis.dll ...`, e.g. setpriv to drop capabilities.</param>
    public static PortcullisProcess Start(IEnumerable<string> args, IDictionary<string, string>? env = null, string? stdin = null, string? workingDirectory = null, IReadOnlyList<string>? launcher = null)
    {
        var psi = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Paths.RepoRoot,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (var a in launcher.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }
            psi.ArgumentList.Add("dotnet");
        }
        psi.ArgumentList.Add(Paths.ProgramDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // Tests must not inherit configuration overrides from the developer's shell.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("PORTCULLIS__", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var pp = new PortcullisProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (pp._stdout) { pp._stdout.AppendLine(e.Data); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (pp._stderr) { pp._stderr.AppendLine(e.Data); } } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
        }
        p.StandardInput.Close();
        return pp;
    }

    /// <summary>Runs a one-shot command to completion.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, string? stdin = null, TimeSpan? timeout = null, IReadOnlyList<string>? launcher = null)
    {
        await using var p = Start(args, env, stdin, launcher: launcher);
        await p.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(120));
        return (p.ExitCode, p.StandardOutput, p.StandardError);
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"portcullis did not exit within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }
        // Drain the asynchronous output readers.
        _process.WaitForExit();
    }

    /// <summary>Waits until something accepts TCP connections at host:port (the server is up).</summary>
    public async Task WaitForListenerAsync(string host, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"portcullis exited with {_process.ExitCode} before listening on {host}:{port}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            }
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(host, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"nothing listened on {host}:{port} within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
    }

    /// <summary>Sends SIGTERM (what systemd's stop does): the server's graceful stop.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>Sends a signal by name (TERM, HUP, ...) with kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill?.WaitForExit();
    }

    /// <summary>Stops the process: SIGTERM first (graceful), then kill.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process.HasExited)
        {
            return;
        }
        try
        {
            Terminate();
            using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Kills the process at once, as a crash would (no graceful shutdown).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
