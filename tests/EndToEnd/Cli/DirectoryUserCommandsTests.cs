using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.EndToEnd.Tests.Infrastructure;
using Portcullis.Server.Directory;

namespace Portcullis.EndToEnd.Tests.Cli;

/// <summary>`portcullis user ...` (passwords, prompts, credentials) run as the built program against a temporary data directory.</summary>
public sealed class DirectoryUserCommandsTests : IDisposable
{
    private readonly DirectoryCliSandbox _box = new();

    public void Dispose() => _box.Dispose();

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task User_add_with_password_stdin_stores_a_scram_credential_that_verifies_and_no_password_text()
    {
        const string password = "Correct-Horse-Battery-7731";
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);

        var add = await _box.RunWithStdinAsync(password + "\n", "user", "add", "Alice@Example.Test", "--password-stdin");
        Assert.Equal((0, "user alice@example.test added\n", ""), (add.ExitCode, add.Stdout, add.Stderr));
        Assert.Equal(["alice@example.test"], Lines((await _box.RunAsync("user", "list")).Stdout));

        // Read the database the program wrote, as the server will.
        string stored;
        await using (var c = new SqliteConnection($"Data Source={_box.DatabaseFile};Mode=ReadOnly;Pooling=False"))
        {
            await c.OpenAsync();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT credential FROM users WHERE address = 'alice@example.test'";
            stored = (string)cmd.ExecuteScalar()!;
        }
        Assert.StartsWith("SCRAM-SHA-256$100000:", stored, StringComparison.Ordinal);
        var credential = ScramCredential.Parse(stored);
        Assert.True(credential.VerifyPassword(password));
        Assert.False(credential.VerifyPassword(password + "\n"));
        Assert.False(credential.VerifyPassword("correct-horse-battery-7731"));

        foreach (var file in Directory.GetFiles(_box.DataDir, "directory.db*"))
        {
            var text = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain("Correct-Horse", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Password_stdin_strips_only_the_newline()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);
        Assert.Equal(0, (await _box.RunWithStdinAsync("  spaced pw \r\n", "user", "add", "bob@example.test", "--password-stdin")).ExitCode);
        Assert.Equal(0, (await _box.RunWithStdinAsync("no-newline", "user", "add", "carol@example.test", "--password-stdin")).ExitCode);

        await using var store = await SqliteDirectoryStore.OpenInDataDirAsync(_box.DataDir);
        Assert.True((await store.GetCredentialAsync("bob@example.test"))!.VerifyPassword("  spaced pw "));
        Assert.True((await store.GetCredentialAsync("carol@example.test"))!.VerifyPassword("no-newline"));
    }

    [Fact]
    public async Task User_add_refuses_empty_password_missing_stdin_and_unknown_domain()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);

        var empty = await _box.RunWithStdinAsync("\n", "user", "add", "alice@example.test", "--password-stdin");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("the password is empty", empty.Stderr, StringComparison.Ordinal);

        var eof = await _box.RunWithStdinAsync("", "user", "add", "alice@example.test", "--password-stdin");
        Assert.Equal(2, eof.ExitCode);
        Assert.Contains("standard input is empty", eof.Stderr, StringComparison.Ordinal);

        // The test's stdin is a pipe, not a terminal: no prompt is possible.
        var noTty = await _box.RunWithStdinAsync("pw\n", "user", "add", "alice@example.test");
        Assert.Equal(2, noTty.ExitCode);
        Assert.Contains("not a terminal", noTty.Stderr, StringComparison.Ordinal);
        Assert.Contains("--password-stdin", noTty.Stderr, StringComparison.Ordinal);

        var foreign = await _box.RunWithStdinAsync("pw\n", "user", "add", "bob@other.test", "--password-stdin");
        Assert.Equal((2, "portcullis: user bob@other.test: other.test is not a local domain (add the domain first)\n"), (foreign.ExitCode, foreign.Stderr));

        // The domain is checked before any password is asked for.
        var early = await _box.RunWithStdinAsync("", "user", "add", "bob@other.test");
        Assert.Equal((2, "portcullis: user bob@other.test: other.test is not a local domain (add the domain first)\n"), (early.ExitCode, early.Stderr));

        var routing = await _box.RunWithStdinAsync("pw\n", "user", "add", "bob%evil.example@example.test", "--password-stdin");
        Assert.Equal(2, routing.ExitCode);

        Assert.Equal("", (await _box.RunAsync("user", "list")).Stdout);
        var twice1 = await _box.RunWithStdinAsync("pw\n", "user", "add", "alice@example.test", "--password-stdin");
        var twice2 = await _box.RunWithStdinAsync("pw\n", "user", "add", "alice@example.test", "--password-stdin");
        Assert.Equal((0, 2), (twice1.ExitCode, twice2.ExitCode));
        Assert.Contains("already exists", twice2.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_password_replaces_the_credential()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);
        Assert.Equal(0, (await _box.RunWithStdinAsync("old-pw\n", "user", "add", "alice@example.test", "--password-stdin")).ExitCode);
        var change = await _box.RunWithStdinAsync("new-pw\n", "user", "password", "alice@example.test", "--password-stdin");
        Assert.Equal((0, "password of alice@example.test changed\n"), (change.ExitCode, change.Stdout));
        Assert.Equal(2, (await _box.RunWithStdinAsync("pw\n", "user", "password", "nobody@example.test", "--password-stdin")).ExitCode);

        await using var store = await SqliteDirectoryStore.OpenInDataDirAsync(_box.DataDir);
        var credential = await store.GetCredentialAsync("alice@example.test");
        Assert.True(credential!.VerifyPassword("new-pw"));
        Assert.False(credential.VerifyPassword("old-pw"));
    }

    [Fact]
    public async Task User_add_on_a_terminal_prompts_twice_without_echo()
    {
        if (!File.Exists("/usr/bin/script"))
        {
            Assert.Fail("util-linux `script` is needed to give the program a terminal (tests/deps/server.txt lists bsdutils)");
        }
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);

        // `script` runs the program on a pseudo-terminal and copies our stdin to it: a real TTY prompt.
        var (ok, transcript) = await RunOnTerminalAsync(["user", "add", "dave@example.test"], "tty-secret-1", "tty-secret-1");
        Assert.True(ok, transcript);
        Assert.Contains("Password: ", transcript, StringComparison.Ordinal);
        Assert.Contains("Repeat password: ", transcript, StringComparison.Ordinal);
        Assert.Contains("user dave@example.test added", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("tty-secret-1", transcript, StringComparison.Ordinal);

        var (_, mismatch) = await RunOnTerminalAsync(["user", "add", "erin@example.test"], "one", "two");
        Assert.Contains("the two passwords differ", mismatch, StringComparison.Ordinal);

        await using var store = await SqliteDirectoryStore.OpenInDataDirAsync(_box.DataDir);
        Assert.True((await store.GetCredentialAsync("dave@example.test"))!.VerifyPassword("tty-secret-1"));
        Assert.Null(await store.GetCredentialAsync("erin@example.test"));
    }

    /// <summary>Runs the program under `script` (a pseudo-terminal) and types each answer once its prompt has appeared.</summary>
    private async Task<(bool Ok, string Transcript)> RunOnTerminalAsync(string[] args, string first, string second)
    {
        var command = string.Join(' ', new[] { "dotnet", Paths.ProgramDll }.Concat(args).Append("--config").Append(_box.ConfigFile).Select(a => "'" + a + "'"));
        var psi = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        // Prompts end without a newline, so read raw characters rather than lines.
        var transcript = new StringBuilder();
        var reader = Task.Run(async () =>
        {
            var buffer = new char[256];
            int n;
            while ((n = await p.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (transcript)
                {
                    transcript.Append(buffer, 0, n);
                }
            }
        });
        _ = p.StandardError.ReadToEndAsync();
        string Text() { lock (transcript) { return transcript.ToString(); } }

        async Task AnswerAsync(string prompt, string answer)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!Text().Contains(prompt, StringComparison.Ordinal) && DateTime.UtcNow < deadline && !p.HasExited)
            {
                await Task.Delay(20);
            }
            // The prompt is written just before the program turns echo off to read; give it that moment.
            await Task.Delay(400);
            await p.StandardInput.WriteAsync(answer + "\r");
            await p.StandardInput.FlushAsync();
        }

        await AnswerAsync("Password: ", first);
        await AnswerAsync("Repeat password: ", second);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        await reader;
        return (p.ExitCode == 0, Text());
    }
}
