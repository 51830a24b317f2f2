namespace Portcullis.Server.Delivery;

/// <summary>Writes one message into a Maildir durably: tmp/, fsync, rename into new/, fsync new/.</summary>
public static class MaildirWriter
{
    public static string Write(string maildir, string name, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> content)
    {
        var tmp = Path.Combine(maildir, "tmp");
        var @new = Path.Combine(maildir, "new");
        var cur = Path.Combine(maildir, "cur");
        var final = Path.Combine(@new, name);
        if (File.Exists(final) || (System.IO.Directory.Exists(cur) && System.IO.Directory.EnumerateFiles(cur, name + "*").Any()))
        {
            return final; // delivered before a crash; do not deliver twice
        }
        System.IO.Directory.CreateDirectory(tmp);
        System.IO.Directory.CreateDirectory(@new);
        System.IO.Directory.CreateDirectory(cur);
        var tmpPath = Path.Combine(tmp, name);
        using (var f = new FileStream(tmpPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            f.Write(prefix);
            f.Write(content);
            f.Flush(flushToDisk: true);
        }
        File.Move(tmpPath, final, overwrite: false);
        Storage.Durability.FsyncDirectory(@new);
        return final;
    }
}
