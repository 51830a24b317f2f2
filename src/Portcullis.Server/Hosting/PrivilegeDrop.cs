using System.Runtime.InteropServices;

namespace Portcullis.Server.Hosting;

/// <summary>
/// server.user: after the listeners are bound (ports below 1024 need root), switch to an unprivileged
/// user, as Postfix's and OpenSMTPD's daemons do. Off unless configured. The data directory is handed to
/// that user first, so the queue and the mailboxes stay writable.
/// </summary>
public static partial class PrivilegeDrop
{
    public static void SwitchTo(string user, string dataDir)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("server.user is supported on Linux only");
        }
        var pw = GetPwNam(user);
        if (pw == IntPtr.Zero)
        {
            throw new InvalidOperationException($"server.user: no such user '{user}'");
        }
        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... } (glibc, LP64)
        var uid = (uint)Marshal.ReadInt32(pw, 2 * IntPtr.Size);
        var gid = (uint)Marshal.ReadInt32(pw, (2 * IntPtr.Size) + 4);
        if (GetEuid() != 0)
        {
            if (GetEuid() == uid)
            {
                return;
            }
            throw new InvalidOperationException($"server.user: switching to '{user}' needs root (running as uid {GetEuid()})");
        }
        Chown(dataDir, uid, gid);
        if (SetGroups(0, IntPtr.Zero) != 0 || SetGid(gid) != 0 || SetUid(uid) != 0)
        {
            throw new InvalidOperationException($"server.user: cannot switch to '{user}' (errno {Marshal.GetLastPInvokeError()})");
        }
        // Make sure there is no way back (setuid(0) must now fail).
        if (SetUid(0) == 0)
        {
            throw new InvalidOperationException("server.user: privileges could be regained after the switch; refusing to run");
        }
    }

    private static void Chown(string dir, uint uid, uint gid)
    {
        foreach (var path in System.IO.Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Prepend(dir))
        {
            if (LChown(path, uid, gid) != 0)
            {
                throw new InvalidOperationException($"server.user: cannot hand {path} to uid {uid} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static partial int SetGroups(nint size, IntPtr list);

    [LibraryImport("libc", EntryPoint = "setgid", SetLastError = true)]
    private static partial int SetGid(uint gid);

    [LibraryImport("libc", EntryPoint = "setuid", SetLastError = true)]
    private static partial int SetUid(uint uid);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, uint uid, uint gid);
}
