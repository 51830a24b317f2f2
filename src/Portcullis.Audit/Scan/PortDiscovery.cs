using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Scan;

public sealed record DiscoveryOptions
{
    /// <summary>How ports are discovered (resolve Auto with <see cref="DiscoveryChoice"/> first).</summary>
    public DiscoveryMethod Method { get; init; } = DiscoveryMethod.Connect;
    /// <summary>Connection attempts in flight at once (SYN: probes sent and not yet answered or given up on).</summary>
    public int Concurrency { get; init; } = 512;
    /// <summary>Connection attempts (SYN: packets, retransmissions included) started per second (0: no limit).</summary>
    public double Rate { get; init; }
    /// <summary>A port that neither accepts nor refuses within this time counts as filtered.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1.5);
    /// <summary>Use the portable Socket path even where the Linux epoll loop is available (tests cover both).</summary>
    public bool PortableOnly { get; init; }
}

/// <summary>
/// TCP connect discovery (like nmap -sT): a fixed pool of workers takes endpoint numbers from a shared
/// counter, so no list of targets is ever built (a /16 x 4 ports is 262,144 numbers, not objects), and at
/// most Concurrency sockets are open. Refusals on loopback and on a LAN come back at once; only silent
/// (filtered) ports cost the timeout. An accepted connection is reset at once (linger 0) so the scanner
/// leaves no TIME_WAIT behind.
/// </summary>
public sealed class PortDiscovery : IPortDiscovery
{
    private readonly EndpointSpace _space;
    private readonly DiscoveryOptions _options;
    private readonly long[] _inFlight;
    private long _next;
    private long _done;
    private long _open;
    private long _filtered;

    public PortDiscovery(EndpointSpace space, DiscoveryOptions options, long startIndex = 0)
    {
        if (options.Concurrency is < 1 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "concurrency must be between 1 and 65536");
        }
        _space = space;
        _options = options;
        _next = startIndex;
        _done = startIndex;
        _inFlight = new long[options.Concurrency];
        Array.Fill(_inFlight, long.MaxValue);
    }

    public long Total => _space.Count;
    public long Done => Interlocked.Read(ref _done);
    public long Open => Interlocked.Read(ref _open);
    public long Filtered => Interlocked.Read(ref _filtered);

    /// <summary>Every endpoint numbered below this has been tried (the resume checkpoint).</summary>
    public long Watermark
    {
        get
        {
            var low = Math.Min(Interlocked.Read(ref _next), _space.Count);
            for (var k = 0; k < _inFlight.Length; k++)
            {
                low = Math.Min(low, Volatile.Read(ref _inFlight[k]));
            }
            return low;
        }
    }

    /// <summary>Runs to the end (or cancellation); <paramref name="onOpen"/> is called for each port that accepted, before its number is counted done.</summary>
    public async Task RunAsync(Func<IPEndPoint, long, ValueTask> onOpen, CancellationToken ct)
    {
        if (LinuxConnectLoop.Supported && _options.Rate <= 0 && !_options.PortableOnly)
        {
            await RunEpollAsync(onOpen, ct).ConfigureAwait(false);
            return;
        }
        var gate = new RateGate(_options.Rate);
        var workers = new Task[_options.Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            var slot = w;
            workers[w] = Task.Run(() => WorkerAsync(slot, gate, onOpen, ct), ct);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    /// <summary>One epoll loop per core, each with its share of the concurrency and of the in-flight table.</summary>
    private async Task RunEpollAsync(Func<IPEndPoint, long, ValueTask> onOpen, CancellationToken ct)
    {
        var loops = Math.Max(1, Math.Min(Environment.ProcessorCount, _options.Concurrency));
        var share = _options.Concurrency / loops;
        var tasks = new Task[loops];
        for (var l = 0; l < loops; l++)
        {
            var first = l * share;
            var capacity = l == loops - 1 ? _options.Concurrency - first : share;
            tasks[l] = Task.Factory.StartNew(() => LinuxConnectLoop.Run(
                slot =>
                {
                    Volatile.Write(ref _inFlight[first + slot], Interlocked.Read(ref _next));
                    var i = Interlocked.Increment(ref _next) - 1;
                    if (i >= _space.Count)
                    {
                        Volatile.Write(ref _inFlight[first + slot], long.MaxValue);
                        return -1;
                    }
                    return i;
                },
                (index, address) =>
                {
                    var (block, offset, port) = _space.At(index);
                    block.WriteAddressAt(offset, address);
                    return (block.Family, port);
                },
                (index, outcome) =>
                {
                    if (outcome == LinuxConnectLoop.Outcome.Open)
                    {
                        Interlocked.Increment(ref _open);
                        var pending = onOpen(_space.EndPointAt(index), index);
                        if (!pending.IsCompletedSuccessfully)
                        {
                            pending.AsTask().GetAwaiter().GetResult();
                        }
                    }
                    else if (outcome == LinuxConnectLoop.Outcome.Filtered)
                    {
                        Interlocked.Increment(ref _filtered);
                    }
                    Interlocked.Increment(ref _done);
                },
                _inFlight.AsMemory(first, capacity), capacity, _options.ConnectTimeout, ct),
                ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopped by the user: the watermark says how far we got
        }
    }

    private async Task WorkerAsync(int slot, RateGate gate, Func<IPEndPoint, long, ValueTask> onOpen, CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Publish a lower bound before taking a number, so the watermark never passes an
                // endpoint that has been taken but not yet marked in flight.
                Volatile.Write(ref _inFlight[slot], Interlocked.Read(ref _next));
                var i = Interlocked.Increment(ref _next) - 1;
                if (i >= _space.Count)
                {
                    Volatile.Write(ref _inFlight[slot], long.MaxValue);
                    break;
                }
                Volatile.Write(ref _inFlight[slot], i);
                await gate.WaitAsync(ct).ConfigureAwait(false);
                var endpoint = _space.EndPointAt(i);
                var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                var accepted = false;
                cts.CancelAfter(_options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
                    accepted = true;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    // closed: the common case, answered at once
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref _filtered); // unreachable, no route
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _filtered); // silence: filtered
                }
                finally
                {
                    if (accepted)
                    {
                        socket.LingerState = new LingerOption(true, 0);
                    }
                    socket.Dispose();
                    if (!cts.TryReset())
                    {
                        cts.Dispose();
                        cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    }
                }
                if (accepted)
                {
                    Interlocked.Increment(ref _open);
                    await onOpen(endpoint, i).ConfigureAwait(false);
                }
                Interlocked.Increment(ref _done);
                Volatile.Write(ref _inFlight[slot], long.MaxValue);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopped by the user: the watermark says how far we got
        }
        finally
        {
            cts.Dispose();
        }
    }
}
