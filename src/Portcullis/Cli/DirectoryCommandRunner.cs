using Microsoft.Data.Sqlite;
using Portcullis.Server.Directory;

namespace Portcullis.Cli;

/// <summary>
/// What the domain, user and alias commands share: load the configuration, open
/// <c>&lt;data_dir&gt;/directory.db</c>, run the change, and turn failures into one line on stderr with
/// the exit code: 2 for a usage or validation error (the administrator can fix the input), 1 for any
/// other failure (the file cannot be opened, the disk is full, ...).
/// </summary>
internal static class DirectoryCommandRunner
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    public static async Task<int> RunAsync(string? configPath, Func<IDirectoryStore, Task<int>> action, CancellationToken cancellationToken)
    {
        var settings = CommonOptions.LoadSettings(configPath);
        if (settings is null)
        {
            return CommonOptions.ConfigErrorExitCode;
        }
        try
        {
            await using var store = await SqliteDirectoryStore.OpenInDataDirAsync(settings.Storage.DataDir, cancellationToken).ConfigureAwait(false);
            return await action(store).ConfigureAwait(false);
        }
        catch (DirectoryException e)
        {
            return Fail(UsageError, e.Message);
        }
        catch (PasswordInputException e)
        {
            return Fail(UsageError, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail(Failure, "interrupted; nothing was changed");
        }
        catch (SqliteException e)
        {
            return Fail(Failure, $"directory database {Path.Combine(settings.Storage.DataDir, SqliteDirectoryStore.FileName)}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Fail(Failure, $"directory database {Path.Combine(settings.Storage.DataDir, SqliteDirectoryStore.FileName)}: {e.Message}");
        }
    }

    /// <summary>Prints one line to stderr and returns the exit code.</summary>
    public static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine("portcullis: " + message);
        return exitCode;
    }
}
