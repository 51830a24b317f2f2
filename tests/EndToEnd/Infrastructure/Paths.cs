namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>Where things are: the repository, the built program, the shared peers.</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The built program: the test project references src/Portcullis, so portcullis.dll is copied beside the tests.</summary>
    public static string ProgramDll { get; } = Path.Combine(AppContext.BaseDirectory, "portcullis.dll");

    /// <summary>../shared/peers beside the repository (CI lays shared/ next to the clone).</summary>
    public static string SharedPeers { get; } = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "peers"));

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portcullis.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Portcullis.sln not found above " + AppContext.BaseDirectory);
    }
}
