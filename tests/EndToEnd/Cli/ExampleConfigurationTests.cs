using System.Text.RegularExpressions;
using Portcullis.Configuration;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Cli;

/// <summary>The example portcullis.toml at the repository root documents every setting the program reads.</summary>
public sealed class ExampleConfigurationTests
{
    [Fact]
    public void Every_known_key_appears_in_the_example_file_under_its_section_set_or_commented()
    {
        var section = "";
        var documented = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in File.ReadLines(Path.Combine(Paths.RepoRoot, ConfigLoader.DefaultFileName)))
        {
            var line = raw.Trim();
            if (Regex.Match(line, @"^\[(?<s>[a-z_]+)\]$") is { Success: true } s)
            {
                section = s.Groups["s"].Value;
            }
            // "key = value" or a commented-out "# key = value".
            else if (Regex.Match(line, @"^#?\s*(?<k>[a-z_]+)\s*=") is { Success: true } k)
            {
                documented.Add(section + ":" + k.Groups["k"].Value);
            }
        }
        Assert.Empty(ConfigLoader.KnownKeys.Where(key => !documented.Contains(key)).Order());
    }
}
