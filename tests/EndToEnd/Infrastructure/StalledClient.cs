using System.Net.Sockets;
using System.Text;
using Portcullis.Smtp;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A client that greets properly, then sends commands and never reads a reply: once its small receive
/// window and the server's send buffer are full, the server cannot write its next reply.
/// </summary>
public sealed class StalledClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _giveUp = new(TimeSpan.FromSeconds(60));
    private Task _sending = Task.CompletedTask;

    private StalledClient(Socket socket) => _socket = socket;

    public static async Task<StalledClient> StartAsync(string host, int port, string helo)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(host, port);
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            var reader = new SmtpReplyReader(stream);
            Assert.Equal(220, (await reader.ReadReplyAsync(CancellationToken.None))!.Code);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"EHLO {helo}\r\n"));
            Assert.Equal(250, (await reader.ReadReplyAsync(CancellationToken.None))!.Code);
        }
        var client = new StalledClient(socket);
        // RSET may be pipelined (RFC 2920 §3.1), and each reply is longer than its command: the replies fill
        // the buffers long before the commands run out.
        var rsets = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("RSET\r\n", 2_000_000)));
        client._sending = Task.Run(async () =>
        {
            try
            {
                await socket.SendAsync(rsets, SocketFlags.None, client._giveUp.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection (what the tests wait for), or the test gave up.
            }
        });
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _giveUp.CancelAsync();
        await _sending;
        _socket.Dispose();
        _giveUp.Dispose();
    }
}
