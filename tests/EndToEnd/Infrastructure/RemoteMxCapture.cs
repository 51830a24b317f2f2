using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The receiving side of outbound-smuggling tests: an MX on a loopback address that keeps the DATA bytes
/// exactly as they came over the wire. Postfix cannot serve here: it stores lines, not bytes (its
/// Maildir files and smtp-sink's dumps turn CRLF into LF and drop a bare CR), so a bare CR or LF that
/// left Portcullis would be invisible. It answers every command with success and offers no extensions
/// beyond 8BITMIME, so the sender uses plain DATA.
/// </summary>
public sealed class RemoteMxCapture : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public RemoteMxCapture(IPEndPoint endpoint)
    {
        _listener = new TcpListener(endpoint);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Every message's DATA bytes as received, up to but not including the final "." line.</summary>
    public ConcurrentQueue<byte[]> Messages { get; } = new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        async Task Say(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        try
        {
            await Say("220 capture.test ESMTP");
            while (true)
            {
                // Commands: one CRLF-terminated line each (the client waits for replies without PIPELINING).
                var end = IndexOf(buffer, "\r\n"u8);
                if (end < 0)
                {
                    var n = await stream.ReadAsync(chunk);
                    if (n == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, n));
                    continue;
                }
                var command = Encoding.ASCII.GetString(buffer.GetRange(0, end).ToArray()).ToUpperInvariant();
                buffer.RemoveRange(0, end + 2);
                if (command.StartsWith("EHLO", StringComparison.Ordinal))
                {
                    await Say("250-capture.test");
                    await Say("250 8BITMIME");
                }
                else if (command == "DATA")
                {
                    await Say("354 go ahead");
                    int stop;
                    while ((stop = IndexOf(buffer, "\r\n.\r\n"u8)) < 0)
                    {
                        var n = await stream.ReadAsync(chunk);
                        if (n == 0)
                        {
                            return;
                        }
                        buffer.AddRange(chunk.AsSpan(0, n));
                    }
                    Messages.Enqueue(buffer.GetRange(0, stop + 2).ToArray());
                    buffer.RemoveRange(0, stop + 5);
                    await Say("250 2.0.0 captured");
                }
                else if (command == "QUIT")
                {
                    await Say("221 bye");
                    return;
                }
                else
                {
                    await Say("250 ok");
                }
            }
        }
        catch (IOException)
        {
        }
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
