using System.Globalization;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Cli;

/// <summary>A temporary data directory and a portcullis.toml pointing at it, for one test.</summary>
public sealed class DirectoryCliSandbox : IDisposable
{
    public DirectoryCliSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "portcullis-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        DataDir = Path.Combine(Root, "data");
        ConfigFile = Path.Combine(Root, "portcullis.toml");
        File.WriteAllText(ConfigFile, string.Create(CultureInfo.InvariantCulture, $"[storage]\ndata_dir = \"{DataDir}\"\n"));
    }

    public string Root { get; }
    public string DataDir { get; }
    public string ConfigFile { get; }
    public string DatabaseFile => Path.Combine(DataDir, "directory.db");

    /// <summary>Runs `portcullis ARGS --config FILE` to completion.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunWithStdinAsync(string stdin, params string[] args) =>
        PortcullisProcess.RunAsync([.. args, "--config", ConfigFile], stdin: stdin, timeout: TimeSpan.FromSeconds(60));

    public Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunWithStdinAsync("", args);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
