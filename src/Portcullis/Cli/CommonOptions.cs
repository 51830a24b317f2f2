using System.CommandLine;
using Portcullis.Configuration;
using Portcullis.Server.Configuration;

namespace Portcullis.Cli;

/// <summary>Options and helpers shared by the commands that read the configuration.</summary>
public static class CommonOptions
{
    public static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = $"Configuration file (TOML). Default: ./{ConfigLoader.DefaultFileName} when present, else built-in defaults. Every key can be overridden by PORTCULLIS__SECTION__KEY.",
        HelpName = "FILE",
    };

    /// <summary>Loads the settings, or prints one line naming the bad key to stderr and returns null (the caller exits with 2).</summary>
    public static PortcullisSettings? LoadSettings(string? path)
    {
        try
        {
            return ConfigLoader.Load(path);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"portcullis: configuration error: {e.Key}: {e.Problem}");
            return null;
        }
    }

    public const int ConfigErrorExitCode = 2;
}
