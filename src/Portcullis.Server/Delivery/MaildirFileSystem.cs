using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Portcullis.Server.Delivery;

/// <summary>
/// The file system calls of a Maildir delivery. Two that .NET does not offer: fsync(2) of a directory (so
/// a new directory entry, such as a rename into new/, survives a crash) and syncfs(2) (flush a whole
/// filesystem at once). And, on Linux, the per-copy calls made directly: creating a copy through
/// FileStream cost open, fstatfs, flock, two lseeks, pwrite, flock and close (eight system calls), and
/// File.Move an lstat before its rename; a copy needs open, pwrite, close and rename (bench/RESULTS.md,
/// "accept, session 4"). Elsewhere the .NET calls are used and the directory sync is skipped (Windows has
/// no equivalent).
/// </summary>
internal static unsafe class MaildirFileSystem
{
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int OCreat = 0x40, OExcl = 0x80; // 0100 and 0200, the same on x86-64 and arm64
    private const int OCloExec = 0x80000; // 02000000, the same on x86-64 and arm64
    private const int EIntr = 4, EExist = 17;
    private const int PrivateFileMode = 0x180; // 0600: mail is private to the server's user

    /// <summary>
    /// Creates <paramref name="path"/>, which must not exist (O_EXCL: a leftover of a crashed attempt is
    /// removed and the file created again), writes <paramref name="content"/> with pwrite(2), optionally
    /// fsyncs it, and closes it. Mode 0600. CreateNew semantics, not Create: truncating an existing file
    /// marks the inode for write-back at close on ext4 (auto_da_alloc), a synchronous flush per copy.
    /// </summary>
    public static void CreateFile(string path, ReadOnlySpan<byte> content, bool flushToDisk)
    {
        if (!OperatingSystem.IsLinux())
        {
            CreateFileDotNet(path, content, flushToDisk);
            return;
        }
        var fd = OpenCreate(path, OWrOnly | OCreat | OExcl | OCloExec, PrivateFileMode);
        if (fd < 0 && Marshal.GetLastPInvokeError() == EExist)
        {
            File.Delete(path);
            fd = OpenCreate(path, OWrOnly | OCreat | OExcl | OCloExec, PrivateFileMode);
        }
        if (fd < 0)
        {
            throw Error("open", path);
        }
        var closed = false;
        try
        {
            fixed (byte* start = content)
            {
                long done = 0;
                while (done < content.Length)
                {
                    var n = PWrite(fd, start + done, (nuint)(content.Length - done), done);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == EIntr)
                        {
                            continue;
                        }
                        throw Error("pwrite", path);
                    }
                    if (n == 0)
                    {
                        throw new IOException($"pwrite({path}) wrote nothing with {content.Length - done} bytes left");
                    }
                    done += n;
                }
            }
            if (flushToDisk && Fsync(fd) != 0)
            {
                throw Error("fsync", path);
            }
            closed = true;
            if (Close(fd) != 0)
            {
                throw Error("close", path); // NFS and full disks report write errors at close
            }
        }
        catch
        {
            if (!closed)
            {
                _ = Close(fd);
            }
            TryDelete(path);
            throw;
        }
    }

    private static void CreateFileDotNet(string path, ReadOnlySpan<byte> content, bool flushToDisk)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        FileStream file;
        try
        {
            file = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(path);
            file = new FileStream(path, options);
        }
        using (file)
        {
            try
            {
                RandomAccess.Write(file.SafeFileHandle, content, 0);
                if (flushToDisk)
                {
                    file.Flush(flushToDisk: true);
                }
            }
            catch
            {
                file.Dispose();
                TryDelete(path);
                throw;
            }
        }
    }

    /// <summary>rename(2) of a file, replacing <paramref name="to"/> if it exists: atomic within one filesystem.</summary>
    public static void Rename(string from, string to)
    {
        if (!OperatingSystem.IsLinux())
        {
            File.Move(from, to, overwrite: true);
            return;
        }
        if (RenameFile(from, to) != 0)
        {
            throw Error("rename", from + " -> " + to);
        }
    }

    /// <summary>
    /// link(2): gives the file at <paramref name="existing"/> a second name, which must not exist (EEXIST is an
    /// IOException). Unlike rename(2) the old name stays until it is removed on purpose: the Maildir delivery of
    /// https://cr.yp.to/proto/maildir.html ("link tmp/x to new/x, then unlink tmp/x"), so that until the new
    /// name is known to be durable the file stays reachable under the old one, whichever directory block a
    /// filesystem without a journal writes first. Linux only (the chained commit that uses it is too).
    /// </summary>
    public static void Link(string existing, string newPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("link(2) is used on Linux only");
        }
        if (LinkFile(existing, newPath) != 0)
        {
            throw Error("link", existing + " -> " + newPath);
        }
    }

    /// <summary>Removes a tmp/ file that will not be delivered; a failure is left to Dovecot's clean-up.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Dovecot removes stale tmp/ files after 36 hours; nothing else to do.
        }
    }

    /// <summary>fsync(2) on a directory: makes the entries created, renamed or removed in it durable.</summary>
    public static void FsyncDirectory(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            OpenAndCall(path, ORdOnly | OCloExec, "fsync", &Fsync);
        }
    }

    /// <summary>fsync(2) of a file written and closed earlier (a staged Maildir copy): reopened for writing, flushed.</summary>
    public static void FsyncFile(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            OpenAndCall(path, OWrOnly | OCloExec, "fsync", &Fsync);
            return;
        }
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
        OpenAndCall(path, ORdOnly | OCloExec, "syncfs", &SyncFs);
    }

    /// <summary>Opens <paramref name="path"/>, runs one call on the descriptor (fsync, syncfs), closes it; an IOException names what failed.</summary>
    private static void OpenAndCall(string path, int flags, string name, delegate*<int, int> call)
    {
        var fd = Open(path, flags);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        try
        {
            if (call(fd) != 0)
            {
                throw Error(name, path);
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

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenCreate([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static extern nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameFile([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int LinkFile([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static extern int SyncFs(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
