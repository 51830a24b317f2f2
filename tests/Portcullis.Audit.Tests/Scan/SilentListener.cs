using System.Net;
using System.Net.Sockets;

namespace Portcullis.Audit.Tests.Scan;

/// <summary>
/// A "filtered" port on loopback: a listener whose accept queue is full and that never accepts, so further
/// SYNs get no answer at all (no SYN-ACK, no RST).
/// </summary>
internal sealed class SilentListener : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private SilentListener(Socket listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static async Task<SilentListener> StartAsync(string address)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        listener.Listen(0);
        var silent = new SilentListener(listener);
        for (var k = 0; k < 4; k++)
        {
            var f = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            try
            {
                f.Connect(listener.LocalEndPoint!);
            }
            catch (SocketException)
            {
                // EINPROGRESS: the queue fills either way
            }
            silent._fillers.Add(f);
        }
        await Task.Delay(200);
        return silent;
    }

    public void Dispose()
    {
        _fillers.ForEach(f => f.Dispose());
        _listener.Dispose();
    }
}
