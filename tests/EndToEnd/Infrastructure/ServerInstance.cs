using System.Globalization;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real `portcullis serve` in a temporary directory, on its own loopback address in 127.0.1.0/24,
/// with the local domain example.test (users alice and bob, alias sales -> alice) made by the real CLI.
/// </summary>
public sealed class ServerInstance : IAsyncDisposable
{
    private static int _nextHost = 10;
    private PortcullisProcess? _process;
    private IDictionary<string, string>? _env;

    private ServerInstance(string extraToml, int port, string? user)
    {
        MxPort = port;
        Host = "127.0.1." + Interlocked.Increment(ref _nextHost).ToString(CultureInfo.InvariantCulture);
        Root = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        ConfigFile = Path.Combine(Root, "portcullis.toml");
        var toml = new StringBuilder();
        toml.Append(CultureInfo.InvariantCulture, $"""
            [server]
            hostname = "mx.example.test"
            postmaster = "alice@example.test"
            {(user is null ? "" : $"user = \"{user}\"")}
            [storage]
            data_dir = "data"
            [listeners]
            mx = "{Host}:{MxPort}"
            submission = "{Host}:{SubmissionPort}"
            submissions = "{Host}:{SubmissionsPort}"
            {extraToml}
            """);
        File.WriteAllText(ConfigFile, toml.ToString());
    }

    public string Host { get; }
    public int MxPort { get; }
    public int SubmissionPort => 5587;
    public int SubmissionsPort => 5465;
    public string Root { get; }
    public string ConfigFile { get; }
    public string DataDir => Path.Combine(Root, "data");
    public string ServerLog => (_process?.StandardError ?? "") + _previousLogs;
    private string _previousLogs = "";

    /// <summary>
    /// Sections and keys appended to the generated portcullis.toml (e.g. a [limits] block); <paramref name="env"/>:
    /// environment variables for the server process.
    /// </summary>
    public static async Task<ServerInstance> StartAsync(string extraToml = "", bool populate = true, int port = 2525, string? user = null, IDictionary<string, string>? env = null)
    {
        var s = new ServerInstance(extraToml, port, user) { _env = env };
        if (populate)
        {
            await s.CliAsync("domain", "add", "example.test");
            await s.CliAsync("user", "add", "alice@example.test", "--password-stdin", stdin: "alice-password\n");
            await s.CliAsync("user", "add", "bob@example.test", "--password-stdin", stdin: "bob-password\n");
            await s.CliAsync("alias", "add", "sales@example.test", "alice@example.test");
        }
        await s.StartProcessAsync();
        return s;
    }

    public async Task<string> CliAsync(string verb, string action, string arg, string? arg2 = null, string? stdin = null)
    {
        var args = new List<string> { verb, action, arg };
        if (arg2 is not null)
        {
            args.Add(arg2);
        }
        args.AddRange(["--config", ConfigFile]);
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(args, stdin: stdin);
        Assert.True(code == 0, $"portcullis {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    private async Task StartProcessAsync()
    {
        _process = PortcullisProcess.Start(["serve", "--config", ConfigFile], _env);
        await _process.WaitForListenerAsync(Host, MxPort, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Kills the server at once (a crash: no graceful shutdown) and starts it again on the same data;
    /// <paramref name="whileDown"/> runs in between (to leave on disk what a crash at a worse moment would).
    /// </summary>
    public async Task CrashAndRestartAsync(Action? whileDown = null)
    {
        await _process!.KillAsync();
        _previousLogs += _process.StandardError;
        await _process.DisposeAsync();
        whileDown?.Invoke();
        await StartProcessAsync();
    }

    public string MaildirNew(string user, string domain = "example.test") => Path.Combine(DataDir, "mail", domain, user, "Maildir", "new");

    public string[] Messages(string user) => Directory.Exists(MaildirNew(user)) ? Directory.GetFiles(MaildirNew(user)) : [];

    /// <summary>Waits until the user's Maildir holds at least <paramref name="count"/> messages.</summary>
    public async Task<string[]> WaitForMessagesAsync(string user, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var files = Messages(user);
            if (files.Length >= count || DateTime.UtcNow > deadline)
            {
                return files;
            }
            await Task.Delay(50);
        }
    }

    public int Pid => _process!.Pid;

    /// <summary>Sends the running server a signal by name (HUP, ...).</summary>
    public void Signal(string name) => _process!.Signal(name);

    /// <summary>Sends SIGTERM (what systemd's stop does) and waits for the process to end; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        _process!.Terminate();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            // Not a poll of HasExited: the process may have ended before its last log lines were read.
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"portcullis still running {timeout} after SIGTERM.\n{ServerLog}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits until the server's log contains <paramref name="needle"/> (log lines are written asynchronously).</summary>
    public async Task<bool> WaitForLogAsync(string needle, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!ServerLog.Contains(needle, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    public Task<SmtpWire> ConnectAsync(bool readGreeting = true) => SmtpWire.ConnectAsync(Host, MxPort, readGreeting);

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
            await _process.DisposeAsync();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One server shared by the tests of a class (xunit class fixture).</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public ServerInstance Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerInstance.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
