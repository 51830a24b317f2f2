using System.Globalization;
using System.IO.Hashing;

namespace Portcullis.Server.Delivery;

/// <summary>
/// The name a copy has in tmp/ while it is written: its final name, then '#', its length in bytes, '.', and
/// the CRC-32 of its bytes in hex (<c>1764300000.P0a1b2cR0.mx.example.test#5243.9f3c21d0</c>).
/// Why: a copy is acknowledged once its data is durable in tmp/ and it is linked into new/ (the link made
/// durable by the next flush, <see cref="InlineLocalDelivery"/>), so after a crash an acknowledged copy may
/// be found in tmp/ alone. A copy that was still being written when the machine stopped may be found there
/// too, short, or (on a filesystem without a journal) with blocks that were never written. The length and
/// checksum in the name tell the two apart without any other record (<see cref="MaildirWriter.RecoverStaged"/>).
/// Readers never see this name: Maildir readers ignore tmp/ (https://cr.yp.to/proto/maildir.html).
/// </summary>
internal static class MaildirStagingName
{
    private const char Separator = '#';

    public static string Format(string uniqueName, ReadOnlySpan<byte> content) =>
        string.Create(CultureInfo.InvariantCulture, $"{uniqueName}{Separator}{content.Length}.{Crc32.HashToUInt32(content):x8}");

    /// <summary>Splits a tmp/ file name written by <see cref="Format"/>; false for any other name (a reader's, an older build's).</summary>
    public static bool TryParse(string fileName, out string uniqueName, out long length, out uint checksum)
    {
        uniqueName = "";
        length = 0;
        checksum = 0;
        var separator = fileName.LastIndexOf(Separator);
        if (separator <= 0)
        {
            return false;
        }
        var check = fileName.AsSpan(separator + 1);
        var dot = check.IndexOf('.');
        if (dot <= 0 || check.Length - dot - 1 != 8
            || !long.TryParse(check[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out length)
            || !uint.TryParse(check[(dot + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out checksum))
        {
            return false;
        }
        uniqueName = fileName[..separator];
        return true;
    }

    /// <summary>Whether the file holds exactly the bytes its staging name describes.</summary>
    public static bool IsIntact(string path, long length, uint checksum)
    {
        using var file = File.OpenHandle(path);
        if (RandomAccess.GetLength(file) != length || length > int.MaxValue)
        {
            return false;
        }
        var crc = new Crc32();
        var buffer = new byte[64 * 1024];
        long at = 0;
        while (at < length)
        {
            var n = RandomAccess.Read(file, buffer, at);
            if (n == 0)
            {
                return false;
            }
            crc.Append(buffer.AsSpan(0, n));
            at += n;
        }
        return crc.GetCurrentHashAsUInt32() == checksum;
    }
}
