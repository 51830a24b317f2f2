using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Scan.Syn;

/// <summary>
/// SYN discovery (half-open scanning, like nmap -sS, masscan and zmap) over raw IPv4 sockets: sender threads
/// (one per core) write IPv4 packets carrying TCP SYNs in batches (sendmmsg) on their own IPPROTO_RAW
/// sockets, a receiver thread reads the answers in batches (recvmmsg) on a raw TCP socket through a kernel
/// BPF filter that lets through only ACKs to our source port. The senders' sockets are send-only (raw(7):
/// an IPPROTO_RAW socket receives nothing), so no lock is shared between senders and receiver: with one
/// socket for all, the kernel queued each loopback reply on the sender's socket backlog while it held
/// the socket lock, and the other sender waited for that lock. Nothing is kept per probe: the sequence
/// number is a keyed hash (<see cref="SynCookie"/>), so a SYN-ACK or RST is checked against the hash, and the
/// endpoint it answers is found by arithmetic (<see cref="EndpointSpace.TryIndexOfIPv4"/>). SYN-ACK: open;
/// RST: closed; silence after one retransmission and <see cref="DiscoveryOptions.ConnectTimeout"/>: filtered.
/// One bit per endpoint records which have answered (32 KB for a /16 x 4 ports), so silent ones are
/// retransmitted and the progress and the resume watermark stay exact.
/// The kernel resets every SYN-ACK itself (no socket owns our source port; we hold it bound, not listening,
/// so no other program can use it meanwhile): the scanned server never sees a completed connection.
/// </summary>
public sealed class SynDiscovery : IPortDiscovery
{
    private const int Batch = 64;
    private const int ReceiveBatch = 256;
    private const int ReceiveSnap = 128;

    private readonly EndpointSpace _space;
    private readonly DiscoveryOptions _options;
    private readonly long _start;
    private readonly long _end;
    private readonly long[] _answered; // one bit per endpoint from _start: answered, or given up on
    private readonly SynCookie _cookie = SynCookie.CreateRandom();
    private long _answeredCount;
    private long _answeredBelowDone;
    private long _receiving = long.MaxValue;
    private long _open;
    private long _filtered;
    private long _packets;
    private volatile bool _stop;

    public SynDiscovery(EndpointSpace space, DiscoveryOptions options, long startIndex = 0)
    {
        if (!space.IsIPv4Only)
        {
            throw new ArgumentException("SYN discovery is IPv4 only");
        }
        _space = space;
        _options = options;
        _start = Math.Min(startIndex, space.Count);
        _end = space.Count;
        _answered = new long[(_end - _start + 63) / 64];
    }

    /// <summary>Why SYN discovery cannot run here for these targets (null: it can).</summary>
    public static string? Unavailable(EndpointSpace space)
    {
        if (!LinuxRawSocket.Supported)
        {
            return "SYN discovery needs raw sockets on Linux (x64 or arm64)";
        }
        if (!space.IsIPv4Only)
        {
            return "the targets include IPv6 addresses and SYN discovery is IPv4 only";
        }
        if (space.Count > 1L << 32)
        {
            return "more than 2^32 endpoints (one bit of state each)";
        }
        var fd = LinuxRawSocket.Socket(LinuxRawSocket.AfInet, LinuxRawSocket.SockRaw | LinuxRawSocket.SockCloexec, LinuxRawSocket.IpProtoTcp);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return $"no CAP_NET_RAW: socket(AF_INET, SOCK_RAW, IPPROTO_TCP) failed ({LinuxRawSocket.ErrorText(errno)})";
        }
        LinuxRawSocket.Close(fd);
        return null;
    }

    public long Total => _space.Count;
    public long Open => Interlocked.Read(ref _open);
    public long Filtered => Interlocked.Read(ref _filtered);
    /// <summary>Packets sent, retransmissions included.</summary>
    public long Packets => Interlocked.Read(ref _packets);
    /// <summary>The TCP source port of the probes (chosen per scan).</summary>
    public int SourcePort { get; private set; }

    public long Done => Math.Min(_end, _start + Interlocked.Read(ref _finalized) + Math.Max(0, Interlocked.Read(ref _answeredCount) - Interlocked.Read(ref _answeredBelowDone)));

    public long Watermark
    {
        get
        {
            var low = Interlocked.Read(ref _receiving);
            var lanes = _lanes;
            if (lanes.Length == 0)
            {
                return _start;
            }
            foreach (var lane in lanes)
            {
                low = Math.Min(low, Interlocked.Read(ref lane.DoneCursor));
            }
            return Math.Min(low, _end);
        }
    }

    public async Task RunAsync(Func<IPEndPoint, long, ValueTask> onOpen, CancellationToken ct)
    {
        if (_start >= _end)
        {
            return;
        }
        var fd = LinuxRawSocket.Socket(LinuxRawSocket.AfInet, LinuxRawSocket.SockRaw | LinuxRawSocket.SockCloexec, LinuxRawSocket.IpProtoTcp);
        if (fd < 0)
        {
            throw new InvalidOperationException("SYN discovery: socket(AF_INET, SOCK_RAW, IPPROTO_TCP) failed: " + LinuxRawSocket.ErrorText(Marshal.GetLastPInvokeError()));
        }
        // Our source port: held by a bound, never listening TCP socket, so no local program can take it,
        // and the kernel (finding no listener or connection there) answers each SYN-ACK with a RST.
        using var portHold = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            portHold.Bind(new IPEndPoint(IPAddress.Any, 0));
            SourcePort = ((IPEndPoint)portHold.LocalEndPoint!).Port;
            LinuxRawSocket.SetBuffer(fd, LinuxRawSocket.SoRcvBufForce, LinuxRawSocket.SoRcvBuf, 64 << 20);
            // Replies not yet read count as outstanding, so the window also bounds what waits in the receive
            // buffer: keep it within the buffer the kernel granted (SO_RCVBUFFORCE needs CAP_NET_ADMIN; with
            // CAP_NET_RAW alone, net.core.rmem_max applies), at about 2 KB of buffer per reply, so no reply is
            // dropped for want of room.
            _window = (int)Math.Clamp(LinuxRawSocket.GetInt(fd, LinuxRawSocket.SolSocket, LinuxRawSocket.SoRcvBuf) / 2048L, 64, Math.Max(64, _options.Concurrency));
            if (!LinuxRawSocket.AttachFilter(fd, ReplyFilter(SourcePort)))
            {
                throw new InvalidOperationException("SYN discovery: SO_ATTACH_FILTER failed: " + LinuxRawSocket.ErrorText(Marshal.GetLastPInvokeError()));
            }
            _space.TryIndexOfIPv4(0, 0, out _); // build the reverse index before the receiver needs it
            // One lane per core, and no more lanes than chunks to share out.
            var lanes = (int)Math.Clamp(Math.Min(Environment.ProcessorCount, 4), 1, Math.Max(1, (_end - _start + Chunk - 1) / Chunk));
            _lanes = [.. Enumerable.Range(0, lanes).Select(k => new Lane(k))];
            foreach (var lane in _lanes)
            {
                lane.DoneCursor = Math.Min(FirstOwned(lane.Number), _end);
            }

            Exception? receiverError = null;
            var receiver = new Thread(() =>
            {
                try
                {
                    Receive(fd, onOpen);
                }
                catch (Exception e)
                {
                    receiverError = e;
                }
            })
            { IsBackground = true, Name = "syn-receive" };
            receiver.Start();
            try
            {
                await Task.WhenAll(_lanes.Select(lane =>
                    Task.Factory.StartNew(() => Send(lane, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default))).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // stopped by the user: the watermark says how far we got
            }
            finally
            {
                _stop = true;
                receiver.Join();
            }
            if (receiverError is not null)
            {
                throw new InvalidOperationException("SYN discovery: receiving failed: " + receiverError.Message, receiverError);
            }
        }
        finally
        {
            LinuxRawSocket.Close(fd);
        }
    }

    /// <summary>
    /// Classic BPF (on a raw IPv4 socket the program sees the IP header first): accept TCP segments to our
    /// source port with ACK set (SYN-ACK, RST-ACK), cut to <see cref="ReceiveSnap"/> bytes; drop the rest,
    /// including our own SYNs, which loopback delivers to this socket too.
    /// </summary>
    internal static LinuxRawSocket.SockFilter[] ReplyFilter(int sourcePort) =>
    [
        new() { Code = 0x28, K = 6 },                                 // ldh [6]: flags and fragment offset
        new() { Code = 0x45, JumpTrue = 6, JumpFalse = 0, K = 0x1fff }, // jset #0x1fff: a later fragment -> drop
        new() { Code = 0xb1, K = 0 },                                 // ldx 4*([0]&0xf): IP header length
        new() { Code = 0x48, K = 2 },                                 // ldh [x+2]: TCP destination port
        new() { Code = 0x15, JumpTrue = 0, JumpFalse = 3, K = (uint)sourcePort }, // jeq #port
        new() { Code = 0x50, K = 13 },                                // ldb [x+13]: TCP flags
        new() { Code = 0x45, JumpTrue = 0, JumpFalse = 1, K = 0x10 }, // jset #ACK
        new() { Code = 0x06, K = ReceiveSnap },                       // ret #snap: accept
        new() { Code = 0x06, K = 0 },                                 // ret #0: drop
    ];

    /// <summary>
    /// One sending lane (one per core): it owns every <see cref="Lanes"/>-th chunk of <see cref="Chunk"/>
    /// endpoints, and keeps its own send, retransmission and give-up cursors over them. On loopback the
    /// kernel handles each packet (the target's SYN-ACK or RST included) in the sender's own system call,
    /// so lanes on separate cores are what makes the sending side scale.
    /// </summary>
    private sealed class Lane(int number)
    {
        public int Number { get; } = number;
        public long DoneCursor;
        public long AnsweredCount;
        public long AnsweredBelowDone;
        public long SentNew;
        public long Finalized;
    }

    private const int Chunk = 64;
    private Lane[] _lanes = [];
    private long _finalized;
    private long _sentNew;
    private int _window = int.MaxValue;

    private int Lanes => _lanes.Length;

    private long FirstOwned(int lane) => _start + ((long)lane * Chunk);

    private long NextOwned(long i) => (i + 1 - _start) % Chunk != 0 ? i + 1 : i + 1 + ((long)(Lanes - 1) * Chunk);

    private Lane LaneOf(long index) => _lanes[(int)((index - _start) / Chunk % Lanes)];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private unsafe void Send(Lane lane, CancellationToken ct)
    {
        var fd = LinuxRawSocket.Socket(LinuxRawSocket.AfInet, LinuxRawSocket.SockRaw | LinuxRawSocket.SockCloexec, LinuxRawSocket.IpProtoRaw);
        if (fd < 0)
        {
            throw new InvalidOperationException("SYN discovery: socket(AF_INET, SOCK_RAW, IPPROTO_RAW) failed: " + LinuxRawSocket.ErrorText(Marshal.GetLastPInvokeError()));
        }
        LinuxRawSocket.SetBuffer(fd, LinuxRawSocket.SoSndBufForce, LinuxRawSocket.SoSndBuf, 4 << 20);
        var msgs = (LinuxRawSocket.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxRawSocket.MMsgHdr)));
        var iovs = (LinuxRawSocket.IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxRawSocket.IoVec)));
        var names = (LinuxRawSocket.SockAddrIn*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxRawSocket.SockAddrIn)));
        var packets = (byte*)NativeMemory.AllocZeroed((nuint)(Batch * TcpSegment.SynPacketLength));
        using var sources = new SourceAddressCache();
        for (var k = 0; k < Batch; k++)
        {
            iovs[k].Base = packets + (k * TcpSegment.SynPacketLength);
            iovs[k].Length = TcpSegment.SynPacketLength;
            msgs[k].Header.Name = &names[k];
            msgs[k].Header.NameLength = (uint)sizeof(LinuxRawSocket.SockAddrIn);
            msgs[k].Header.Iov = &iovs[k];
            msgs[k].Header.IovLength = 1;
        }
        var rate = _options.Rate / Lanes;
        var chunk = rate > 0 ? (int)Math.Clamp(rate / 200, 1, Batch) : Batch; // bursts of at most 5 ms worth
        var window = Math.Min(Math.Max(1, _options.Concurrency), _window);
        var timeout = (long)(_options.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        var retryAfter = timeout / 2;
        var clock0 = Stopwatch.GetTimestamp();
        long lanePackets = 0;
        var queued = 0;
        // (first owned index after a batch, when it went out): the retransmission and give-up schedules.
        var retries = new Queue<(long End, long Sent)>();
        var deadlines = new Queue<(long End, long Sent)>();
        var next = FirstOwned(lane.Number);
        var retryCursor = next;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var now = Stopwatch.GetTimestamp();
                // Retransmit once what has not answered by half the timeout (a lost SYN or reply).
                while (retries.Count > 0 && now - retries.Peek().Sent >= retryAfter)
                {
                    var (end, _) = retries.Dequeue();
                    for (; retryCursor < end; retryCursor = NextOwned(retryCursor))
                    {
                        if (!IsAnswered(retryCursor))
                        {
                            Queue(retryCursor);
                        }
                    }
                }
                Flush();
                // Give up on what is still silent at the timeout: filtered.
                while (deadlines.Count > 0 && now - deadlines.Peek().Sent >= timeout)
                {
                    Finalize(lane, deadlines.Dequeue().End);
                }
                Advance(lane, next);
                if (next >= _end)
                {
                    if (Interlocked.Read(ref lane.SentNew) - Interlocked.Read(ref lane.Finalized)
                        - (Interlocked.Read(ref lane.AnsweredCount) - Interlocked.Read(ref lane.AnsweredBelowDone)) <= 0)
                    {
                        Finalize(lane, _end); // every endpoint left has answered: no need to wait
                    }
                    if (Interlocked.Read(ref lane.DoneCursor) >= _end)
                    {
                        break;
                    }
                    Thread.Sleep(1);
                    continue;
                }
                // Outstanding: sent, neither answered nor given up. The window bounds them (--concurrency),
                // which also keeps the replies within the receive buffer.
                var outstanding = Interlocked.Read(ref _sentNew) - Interlocked.Read(ref _finalized)
                    - (Interlocked.Read(ref _answeredCount) - Interlocked.Read(ref _answeredBelowDone));
                var room = window - outstanding;
                if (room <= 0)
                {
                    Thread.Sleep(1);
                    continue;
                }
                var n = (int)Math.Min(chunk, room);
                var taken = 0;
                for (; taken < n && next < _end; taken++)
                {
                    Queue(next);
                    next = NextOwned(next);
                }
                Interlocked.Add(ref lane.SentNew, taken);
                Interlocked.Add(ref _sentNew, taken);
                Flush();
                var sent = Stopwatch.GetTimestamp();
                retries.Enqueue((next, sent));
                deadlines.Enqueue((next, sent));
            }
        }
        finally
        {
            NativeMemory.Free(msgs);
            NativeMemory.Free(iovs);
            NativeMemory.Free(names);
            NativeMemory.Free(packets);
            LinuxRawSocket.Close(fd);
        }

        void Queue(long index)
        {
            var (block, offset, port) = _space.At(index);
            var target = (uint)(block.First + offset);
            if (!sources.TryGet(target, out var source))
            {
                return; // no route: stays silent, ends filtered
            }
            var sequence = _cookie.SequenceFor(target, port, source, SourcePort);
            TcpSegment.WriteSynPacket(new Span<byte>(packets + (queued * TcpSegment.SynPacketLength), TcpSegment.SynPacketLength), source, target, SourcePort, port, sequence);
            names[queued] = LinuxRawSocket.Address(target, 0);
            if (++queued == Batch)
            {
                Flush();
            }
        }

        void Flush()
        {
            var done = 0;
            while (done < queued)
            {
                if (rate > 0)
                {
                    // This lane's packet k may leave at clock0 + k / (rate per lane).
                    var due = clock0 + (long)(lanePackets / rate * Stopwatch.Frequency);
                    while (Stopwatch.GetTimestamp() < due)
                    {
                        if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 500)
                        {
                            Thread.Sleep(1);
                        }
                        else
                        {
                            Thread.Yield();
                        }
                    }
                }
                var count = rate > 0 ? Math.Min(queued - done, chunk) : queued - done;
                var r = LinuxRawSocket.SendMMsg(fd, msgs + done, (uint)count, 0);
                if (r < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is LinuxRawSocket.ENoBufs or LinuxRawSocket.EAgain or LinuxRawSocket.EIntr)
                    {
                        Thread.Sleep(1); // queue full: let it drain
                        continue;
                    }
                    r = 1; // this destination refused locally (unreachable, firewall): it stays silent, ends filtered
                }
                done += r;
                lanePackets += r;
                Interlocked.Add(ref _packets, r);
            }
            queued = 0;
        }
    }

    private bool IsAnswered(long index)
    {
        var bit = index - _start;
        return (Volatile.Read(ref _answered[bit >> 6]) & (1L << (int)(bit & 63))) != 0;
    }

    /// <summary>Sets the endpoint's bit; true for the one caller (receiver or give-up) that set it first.</summary>
    private bool Claim(long index)
    {
        var bit = index - _start;
        var mask = 1L << (int)(bit & 63);
        return (Interlocked.Or(ref _answered[bit >> 6], mask) & mask) == 0;
    }

    /// <summary>
    /// Moves the lane's done cursor over the endpoints that have answered, up to the first silent one (or
    /// <paramref name="limit"/>), so the resume watermark and the progress follow the answers instead of
    /// trailing by the timeout. A lane's chunk is exactly one word of the answered bitmap.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Advance(Lane lane, long limit)
    {
        var cursor = Interlocked.Read(ref lane.DoneCursor);
        long answered = 0;
        while (cursor < limit)
        {
            var bit = cursor - _start;
            if ((bit & 63) == 0 && cursor + Chunk <= limit && Volatile.Read(ref _answered[bit >> 6]) == -1L)
            {
                answered += Chunk;
                cursor = NextOwned(cursor + Chunk - 1);
                continue;
            }
            if (!IsAnswered(cursor))
            {
                break;
            }
            answered++;
            cursor = NextOwned(cursor);
        }
        if (answered > 0)
        {
            Interlocked.Add(ref lane.AnsweredBelowDone, answered);
            Interlocked.Add(ref _answeredBelowDone, answered);
            Interlocked.Add(ref lane.Finalized, answered);
            Interlocked.Add(ref _finalized, answered);
            Interlocked.Exchange(ref lane.DoneCursor, cursor);
        }
    }

    /// <summary>Moves the lane's done cursor to <paramref name="end"/>: what has not answered by now is filtered.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Finalize(Lane lane, long end)
    {
        var cursor = Interlocked.Read(ref lane.DoneCursor);
        long answered = 0, filtered = 0;
        var i = cursor;
        for (; i < end; i = NextOwned(i))
        {
            if (Claim(i))
            {
                filtered++;
            }
            else
            {
                answered++;
            }
        }
        Interlocked.Add(ref _filtered, filtered);
        Interlocked.Add(ref lane.AnsweredBelowDone, answered);
        Interlocked.Add(ref _answeredBelowDone, answered);
        Interlocked.Add(ref lane.Finalized, answered + filtered);
        Interlocked.Add(ref _finalized, answered + filtered);
        Interlocked.Exchange(ref lane.DoneCursor, Math.Max(cursor, i));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private unsafe void Receive(int fd, Func<IPEndPoint, long, ValueTask> onOpen)
    {
        var msgs = (LinuxRawSocket.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(ReceiveBatch * sizeof(LinuxRawSocket.MMsgHdr)));
        var iovs = (LinuxRawSocket.IoVec*)NativeMemory.AllocZeroed((nuint)(ReceiveBatch * sizeof(LinuxRawSocket.IoVec)));
        var buffers = (byte*)NativeMemory.AllocZeroed((nuint)(ReceiveBatch * ReceiveSnap));
        try
        {
            for (var k = 0; k < ReceiveBatch; k++)
            {
                iovs[k].Base = buffers + (k * ReceiveSnap);
                iovs[k].Length = ReceiveSnap;
                msgs[k].Header.Iov = &iovs[k];
                msgs[k].Header.IovLength = 1;
            }
            // Polled, not blocking: a blocked reader costs the sending side a wake-up per packet
            // (sock_def_readable), most of the receive cost at these rates; the socket buffer (64 MB)
            // holds far more than the millisecond of replies that arrive while we sleep.
            while (!_stop)
            {
                var n = LinuxRawSocket.RecvMMsg(fd, msgs, ReceiveBatch, LinuxRawSocket.MsgDontWait, null);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is LinuxRawSocket.EAgain or LinuxRawSocket.EIntr)
                    {
                        Thread.Sleep(1);
                        continue;
                    }
                    throw new InvalidOperationException("recvmmsg failed: " + LinuxRawSocket.ErrorText(errno));
                }
                for (var k = 0; k < n; k++)
                {
                    var packet = new ReadOnlySpan<byte>(buffers + (k * ReceiveSnap), (int)Math.Min(msgs[k].Length, ReceiveSnap));
                    Handle(packet, onOpen);
                }
            }
        }
        finally
        {
            NativeMemory.Free(msgs);
            NativeMemory.Free(iovs);
            NativeMemory.Free(buffers);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Handle(ReadOnlySpan<byte> packet, Func<IPEndPoint, long, ValueTask> onOpen)
    {
        if (!TcpSegment.TryParseIPv4(packet, out var r) || r.DestinationPort != SourcePort || (r.Flags & TcpFlags.Ack) == 0)
        {
            return;
        }
        var synAck = (r.Flags & (TcpFlags.Syn | TcpFlags.Rst)) == TcpFlags.Syn;
        var reset = (r.Flags & TcpFlags.Rst) != 0;
        if ((!synAck && !reset)
            || !_cookie.Acknowledges(r.Source, r.SourcePort, r.Destination, r.DestinationPort, r.Acknowledgment)
            || !_space.TryIndexOfIPv4(r.Source, r.SourcePort, out var index) || index < _start)
        {
            return; // not an answer to one of our probes
        }
        // Hold the watermark below this endpoint until its open port has been reported.
        Interlocked.Exchange(ref _receiving, index);
        if (Claim(index))
        {
            if (synAck)
            {
                Interlocked.Increment(ref _open);
                var pending = onOpen(_space.EndPointAt(index), index);
                if (!pending.IsCompletedSuccessfully)
                {
                    pending.AsTask().GetAwaiter().GetResult();
                }
            }
            Interlocked.Increment(ref LaneOf(index).AnsweredCount);
            Interlocked.Increment(ref _answeredCount);
        }
        Interlocked.Exchange(ref _receiving, long.MaxValue);
    }
}
