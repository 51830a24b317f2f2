using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Portcullis.Server.Delivery;

/// <summary>
/// The two durability calls .NET does not offer: fsync(2) of a directory (so a new directory entry,
/// such as a rename into new/, survives a crash) and syncfs(2) (flush a whole filesystem at once).
/// Linux only; elsewhere the directory sync is skipped (Windows has no equivalent).
/// </summary>
internal static class MaildirFileSystem
{
    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000; // 02000000, the same on x86-64 and arm64

    /// <summary>fsync(2) on a directory: makes the entries created, renamed or removed in it durable.</summary>
    public static void FsyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fd = Open(path, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw Error("fsync", path);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>fsync(2) of a file written and closed earlier (a staged Maildir copy): reopened for writing, flushed.</summary>
    public static void FsyncFile(string path)
    {
        using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 0 });
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// syncfs(2) on the filesystem that holds <paramref name="path"/>: writes back every dirty file and
    /// directory of that filesystem in one call (one journal commit on ext4/xfs).
    /// </summary>
    public static void SyncFileSystem(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("syncfs(2) is Linux-only");
        }
        var fd = Open(path, ORdOnly | OCloExec);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        try
        {
            if (SyncFs(fd) != 0)
            {
                throw Error("syncfs", path);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Error(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call}({path}) failed: {new Win32Exception(errno).Message}", errno);
    }

    // DllImport rather than LibraryImport: the source-generated form needs AllowUnsafeBlocks for the project.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static extern int SyncFs(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
