using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.EndToEnd.Tests.Infrastructure;
using Portcullis.Server.Directory;

namespace Portcullis.EndToEnd.Tests.Cli;

/// <summary>`portcullis domain|user|alias ...` run as the built program against a temporary data directory.</summary>
public sealed class DirectoryCommandsTests : IDisposable
{
    private readonly DirectoryCliSandbox _box = new();

    public void Dispose() => _box.Dispose();

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Domain_add_list_remove_round_trip()
    {
        var add = await _box.RunAsync("domain", "add", "Example.TEST");
        Assert.Equal((0, "domain example.test added\n", ""), (add.ExitCode, add.Stdout, add.Stderr));
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.org")).ExitCode);

        var list = await _box.RunAsync("domain", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(["example.org", "example.test"], Lines(list.Stdout));

        var remove = await _box.RunAsync("domain", "remove", "example.org");
        Assert.Equal((0, "domain example.org removed\n"), (remove.ExitCode, remove.Stdout));
        Assert.Equal(["example.test"], Lines((await _box.RunAsync("domain", "list")).Stdout));
    }

    [Fact]
    public async Task Domain_errors_exit_2_with_one_line_on_stderr()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);

        var twice = await _box.RunAsync("domain", "add", "example.test");
        Assert.Equal((2, "", "portcullis: domain example.test already exists\n"), (twice.ExitCode, twice.Stdout, twice.Stderr));

        var invalid = await _box.RunAsync("domain", "add", "example..test");
        Assert.Equal(2, invalid.ExitCode);
        Assert.Single(Lines(invalid.Stderr));
        Assert.Contains("empty label", invalid.Stderr, StringComparison.Ordinal);

        var missing = await _box.RunAsync("domain", "remove", "nowhere.test");
        Assert.Equal((2, "portcullis: domain nowhere.test does not exist\n"), (missing.ExitCode, missing.Stderr));

        var noArgument = await _box.RunAsync("domain", "add");
        Assert.Equal(2, noArgument.ExitCode);
        var unknownVerb = await _box.RunAsync("domain", "frobnicate");
        Assert.Equal(2, unknownVerb.ExitCode);
    }

    [Fact]
    public async Task Alias_add_list_remove_and_its_errors()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);
        Assert.Equal(0, (await _box.RunWithStdinAsync("pw\n", "user", "add", "alice@example.test", "--password-stdin")).ExitCode);

        var add = await _box.RunAsync("alias", "add", "Sales@example.test", "alice@example.test");
        Assert.Equal((0, "alias sales@example.test -> alice@example.test added\n"), (add.ExitCode, add.Stdout));
        Assert.Equal(["sales@example.test alice@example.test"], Lines((await _box.RunAsync("alias", "list")).Stdout));

        var noTarget = await _box.RunAsync("alias", "add", "info@example.test", "nobody@example.test");
        Assert.Equal(2, noTarget.ExitCode);
        Assert.Contains("is not a local user", noTarget.Stderr, StringComparison.Ordinal);
        var foreign = await _box.RunAsync("alias", "add", "info@other.test", "alice@example.test");
        Assert.Equal(2, foreign.ExitCode);

        var userInUse = await _box.RunAsync("user", "remove", "alice@example.test");
        Assert.Equal(2, userInUse.ExitCode);
        Assert.Contains("sales@example.test", userInUse.Stderr, StringComparison.Ordinal);

        var remove = await _box.RunAsync("alias", "remove", "sales@example.test");
        Assert.Equal((0, "alias sales@example.test removed\n"), (remove.ExitCode, remove.Stdout));
        Assert.Equal("", (await _box.RunAsync("alias", "list")).Stdout);
        Assert.Equal(2, (await _box.RunAsync("alias", "remove", "sales@example.test")).ExitCode);
    }

    [Fact]
    public async Task Domain_remove_with_users_needs_force_and_force_removes_them()
    {
        Assert.Equal(0, (await _box.RunAsync("domain", "add", "example.test")).ExitCode);
        Assert.Equal(0, (await _box.RunWithStdinAsync("pw\n", "user", "add", "alice@example.test", "--password-stdin")).ExitCode);
        Assert.Equal(0, (await _box.RunAsync("alias", "add", "sales@example.test", "alice@example.test")).ExitCode);

        var refused = await _box.RunAsync("domain", "remove", "example.test");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(["example.test"], Lines((await _box.RunAsync("domain", "list")).Stdout));

        var forced = await _box.RunAsync("domain", "remove", "example.test", "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.Single(Lines(forced.Stdout));
        Assert.Equal("", (await _box.RunAsync("domain", "list")).Stdout);
        Assert.Equal("", (await _box.RunAsync("user", "list")).Stdout);
        Assert.Equal("", (await _box.RunAsync("alias", "list")).Stdout);
    }

    [Fact]
    public async Task Configuration_errors_exit_2_and_an_unusable_data_dir_exits_1()
    {
        var missing = await PortcullisProcess.RunAsync(["domain", "list", "--config", Path.Combine(_box.Root, "absent.toml")]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Single(Lines(missing.Stderr));
        Assert.Contains("--config", missing.Stderr, StringComparison.Ordinal);

        // data_dir is a regular file: the directory database cannot be created there.
        var blocker = Path.Combine(_box.Root, "not-a-dir");
        await File.WriteAllTextAsync(blocker, "x");
        var bad = await PortcullisProcess.RunAsync(["domain", "add", "example.test", "--config", _box.ConfigFile],
            env: new Dictionary<string, string> { ["PORTCULLIS__STORAGE__DATA_DIR"] = blocker });
        Assert.Equal(1, bad.ExitCode);
        Assert.Single(Lines(bad.Stderr));
        Assert.StartsWith("portcullis: ", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Environment_overrides_the_data_dir_of_the_file()
    {
        var other = Path.Combine(_box.Root, "other-data");
        var env = new Dictionary<string, string> { ["PORTCULLIS__STORAGE__DATA_DIR"] = other };
        Assert.Equal(0, (await PortcullisProcess.RunAsync(["domain", "add", "env.test", "--config", _box.ConfigFile], env)).ExitCode);
        Assert.True(File.Exists(Path.Combine(other, "directory.db")));
        Assert.Equal("", (await _box.RunAsync("domain", "list")).Stdout);
        Assert.Equal("env.test\n", (await PortcullisProcess.RunAsync(["domain", "list", "--config", _box.ConfigFile], env)).Stdout);
    }
}
