using System.Runtime.InteropServices;

namespace Portcullis.Server.Storage;

/// <summary>
/// The durable-write primitives in one place (DESIGN "one durable write path"): fsync of a directory,
/// which .NET has no API for, so that a rename into it survives a crash (rename(2) is durable only once
/// the directory is synced).
/// </summary>
public static partial class Durability
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000; // Linux x86-64 and arm64

    public static void FsyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = Open(path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
