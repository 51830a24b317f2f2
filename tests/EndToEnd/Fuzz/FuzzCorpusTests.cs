using Portcullis.EndToEnd.Tests.Infrastructure;
using Portcullis.Fuzz;

namespace Portcullis.EndToEnd.Tests.Fuzz;

/// <summary>
/// Every input under fuzz/corpus/TARGET and fuzz/regressions/TARGET (the seeds, and each crash or hang afl
/// found once, kept after the fix) goes through its fuzz target as a test: no unexpected exception, and
/// done in seconds. The fuzzing itself is not part of the suite (fuzz/README.md).
/// </summary>
public sealed class FuzzCorpusTests
{
    private static readonly IReadOnlyDictionary<string, Action<byte[]>> Targets = FuzzTargets.All.Concat(SessionFuzzTarget.All).ToDictionary(StringComparer.Ordinal);

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "corpus", "regressions" })
        {
            var root = Path.Combine(Paths.RepoRoot, "fuzz", kind);
            if (!System.IO.Directory.Exists(root))
            {
                continue;
            }
            foreach (var dir in System.IO.Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                foreach (var file in System.IO.Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                {
                    data.Add(Path.GetFileName(dir), Path.GetRelativePath(Paths.RepoRoot, file));
                }
            }
        }
        return data;
    }

    [Fact]
    public void Every_target_has_seed_inputs_and_every_input_directory_names_a_target()
    {
        var seeded = System.IO.Directory.GetDirectories(Path.Combine(Paths.RepoRoot, "fuzz", "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(Targets.Keys.Order(StringComparer.Ordinal), seeded);
        var regressions = Path.Combine(Paths.RepoRoot, "fuzz", "regressions");
        if (System.IO.Directory.Exists(regressions))
        {
            Assert.All(System.IO.Directory.GetDirectories(regressions), d => Assert.Contains(Path.GetFileName(d), Targets.Keys));
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Fuzz_input_is_parsed_without_an_unexpected_exception(string target, string file)
    {
        var bytes = await File.ReadAllBytesAsync(Path.Combine(Paths.RepoRoot, file));
        var run = Task.Run(() => Targets[target](bytes));
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(finished == run, $"{file} ({target}) still running after 10 s: {FuzzTargets.Describe(bytes)}");
        await run; // rethrows what the target threw
    }
}
