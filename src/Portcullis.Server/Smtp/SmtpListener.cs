using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Policy;
using Portcullis.Smtp;

namespace Portcullis.Server.Smtp;

/// <summary>
/// Accepts connections on one endpoint and runs a session for each, within the connection limits: in
/// total and per client address (421 4.7.0 beyond them, so one client cannot take every slot). Near the total
/// limit it is under stress (<see cref="ListenerStress"/>) and disconnects the clients that keep it waiting.
/// </summary>
public sealed partial class SmtpListener : IAsyncDisposable
{
    private readonly ServerContext _server;
    private readonly ListenerKind _kind;
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
    private readonly ILogger _logger;
    private int _total;

    /// <summary>Running sessions, for the stress sweep.</summary>
    private readonly ConcurrentDictionary<SmtpSession, byte> _sessions = new();
    private readonly ListenerStress _stress;
    private int _stressed;
    private Task? _acceptLoop;

    /// <summary>Set by <see cref="StopAsync"/>; completed by the last session to end after it.</summary>
    private TaskCompletionSource? _drained;

    public SmtpListener(ServerContext server, ListenerKind kind, IPEndPoint endpoint)
    {
        _server = server;
        _kind = kind;
        _logger = server.Log;
        _stress = new ListenerStress(server.Settings.Limits.MaxConnections);
        Endpoint = endpoint;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(endpoint);
            _socket.Listen(1024);
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new IOException(BindFailure(kind, endpoint, e), e);
        }
    }

    /// <summary>Names the setting, the address and the likely cause, so the administrator knows what to change.</summary>
    private static string BindFailure(ListenerKind kind, IPEndPoint endpoint, SocketException e)
    {
        var key = "listeners." + kind.SettingName();
        return $"{key} ({endpoint}): {BindFailureReason(e.SocketErrorCode, e.Message)}";
    }

    /// <summary>Why a listening socket could not be bound, in the administrator's terms (also used for listeners.metrics).</summary>
    public static string BindFailureReason(SocketError error, string message) => error switch
    {
        SocketError.AddressAlreadyInUse => "address already in use: another server listens there (stop it, or choose another port)",
        SocketError.AccessDenied => "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE",
        SocketError.AddressNotAvailable => "address not available: it is not an address of this machine",
        _ => message,
    };

    public IPEndPoint Endpoint { get; }

    public ListenerKind Kind => _kind;

    /// <summary>Sessions still running (for shutdown).</summary>
    public int ActiveSessions => Volatile.Read(ref _total);

    /// <summary>True while the listener is under stress (see <see cref="ListenerStress"/>).</summary>
    public bool UnderStress => Volatile.Read(ref _stressed) == 1;

    public void Start() => _acceptLoop = AcceptLoopAsync();

    private async Task AcceptLoopAsync()
    {
        while (!_server.Stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_server.Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            client.NoDelay = true;
            DelayFirstAck(client);
            // Counted here, not in the session, so that StopAsync cannot miss a session that was accepted
            // but has not started yet. The session's own finally takes it off again: no continuation
            // queued to the thread pool per connection (a wake-up of a worker per message under load).
            var connections = Interlocked.Increment(ref _total);
            if (_stress.Enters(connections) && Interlocked.CompareExchange(ref _stressed, 1, 0) == 0)
            {
                _ = StressSweepAsync(connections);
            }
            _ = HandleAsync(client);
        }
    }

    /// <summary>
    /// Lets the ACK of the client's first command travel with our reply. Linux acknowledges the first
    /// segments of a new connection at once (quick-ack mode) until the socket has answered what it received,
    /// so HELO/EHLO got a bare ACK of its own followed by the reply: one packet in twenty of a one-message
    /// connection (tcpdump on loopback, bench/RESULTS.md "accept, session 9"), paid in the client's sending
    /// call on loopback. TCP_QUICKACK = 0 puts the socket in the mode it reaches after its first reply anyway
    /// (delayed ACKs, RFC 1122 §4.2.3.2, which still acknowledges every second full segment of a large
    /// message).
    /// </summary>
    private static void DelayFirstAck(Socket client)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        const int IpProtoTcp = 6, TcpQuickAck = 12; // <netinet/tcp.h>
        try
        {
            client.SetRawSocketOption(IpProtoTcp, TcpQuickAck, [0, 0, 0, 0]);
        }
        catch (SocketException)
        {
            // Reset before we got here: the session will find out on its first write.
        }
    }

    private async Task HandleAsync(Socket client)
    {
        await Task.Yield();
        var remote = (IPEndPoint)client.RemoteEndPoint!;
        var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        var total = Volatile.Read(ref _total);
        var mine = _perClient.AddOrUpdate(address, 1, (_, n) => n + 1);
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            if (total > _server.Settings.Limits.MaxConnections || mine > _server.Settings.Limits.MaxConnectionsPerClient)
            {
                var reply = total > _server.Settings.Limits.MaxConnections ? Replies.TooManyConnections : Replies.TooManyConnectionsFromYou;
                LogLimit(remote.ToString(), reply.ToString(), total, mine);
                _server.Metrics.Refused(_kind, "connection-limit");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(reply.ToWire())).ConfigureAwait(false);
                return;
            }
            var session = new SmtpSession(_server, stream, remote, _kind, () => client.Available > 0);
            _sessions.TryAdd(session, 0);
            try
            {
                await session.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                _sessions.TryRemove(session, out _);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away; the session already logged what it knew.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "session with {Client} failed", remote);
        }
        finally
        {
            if (Interlocked.Decrement(ref _total) == 0)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
            if (_perClient.AddOrUpdate(address, 0, (_, n) => n - 1) <= 0)
            {
                _perClient.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
            }
        }
    }

    /// <summary>
    /// Runs while the listener is under stress: disconnects every session that has waited for its client longer
    /// than <c>limits.stress_timeout</c> (they answer 421 4.4.2 and log end=stress-timeout), until the
    /// connections fall below <see cref="ListenerStress.LeaveBelow"/>.
    /// </summary>
    private async Task StressSweepAsync(int connections)
    {
        var limits = _server.Settings.Limits;
        var name = _kind.SettingName();
        LogStress(name, connections, limits.MaxConnections, limits.StressTimeout.TotalSeconds);
        var patience = (long)(limits.StressTimeout.TotalSeconds * Stopwatch.Frequency);
        var interval = ListenerStress.SweepInterval(limits.StressTimeout);
        var disconnected = 0;
        try
        {
            while (true)
            {
                var deadline = Stopwatch.GetTimestamp() - patience;
                foreach (var (session, _) in _sessions)
                {
                    if (session.ExpireIfWaitingSince(deadline))
                    {
                        disconnected++;
                    }
                }
                var now = Volatile.Read(ref _total);
                if (_stress.Leaves(now))
                {
                    // The next accept that reaches the threshold starts a new sweep.
                    Volatile.Write(ref _stressed, 0);
                    LogStressOver(name, now, disconnected);
                    return;
                }
                await Task.Delay(interval, _server.Stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping; sessions get their 421 from the shutdown.
        }
        catch (Exception e)
        {
            Volatile.Write(ref _stressed, 0);
            _logger.LogError(e, "stress sweep on {Listener} failed", name);
        }
    }

    /// <summary>Stops accepting and waits for running sessions (they see Stopping and answer 421).</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _socket.Close();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A full fence between publishing the completion and reading the count (a session's finally does the
        // reverse: decrement, then read the completion), so that one of the two always sees the other.
        Interlocked.Exchange(ref _drained, drained);
        if (Volatile.Read(ref _total) == 0)
        {
            drained.TrySetResult();
        }
        await Task.WhenAny(drained.Task, Task.Delay(grace)).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "stress listener={Listener} connections={Connections} max_connections={Max}: clients that keep the server waiting longer than {Seconds}s are disconnected (limits.stress_timeout)")]
    private partial void LogStress(string listener, int connections, int max, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "stress over listener={Listener} connections={Connections} disconnected={Disconnected}")]
    private partial void LogStressOver(string listener, int connections, int disconnected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused client={Client} rule=connection-limit reply=\"{Reply}\" total={Total} from_client={FromClient}")]
    private partial void LogLimit(string client, string reply, int total, int fromClient);
}
