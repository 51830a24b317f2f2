using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Portcullis.Audit.Scan;

/// <summary>
/// Discovery's fast path on Linux x64: non-blocking connect(2) and epoll(7) driven directly, one event
/// loop per core, no task or socket object per attempt. A connection attempt costs socket + connect +
/// epoll_ctl + getsockopt + close, which is what nmap -sT pays too; the managed Socket path adds a
/// thread-pool hop and several allocations to each. Used when no --rate is set.
/// </summary>
internal static class LinuxConnectLoop
{
    private const int AfInet = 2, AfInet6 = 10;
    private const int SockStream = 1, SockNonBlock = 0x800, SockCloexec = 0x80000;
    private const int SolSocket = 1, SoError = 4, SoLinger = 13;
    private const int EpollCtlAdd = 1;
    private const uint EpollOut = 0x004, EpollErr = 0x008, EpollHup = 0x010;
    private const int EInProgress = 115, EConnRefused = 111, EAgain = 11, EMFile = 24, ENFile = 23, EAddrNotAvail = 99, EIntr = 4;

    public static bool Supported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static extern int Connect(int fd, byte[] address, int length);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int EpollCreate1(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epfd, int op, int fd, ref EpollEvent ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int EpollWait(int epfd, [Out] EpollEvent[] events, int maxEvents, int timeout);

    [DllImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static extern int GetSockOptInt(int fd, int level, int name, ref int value, ref int length);

    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static extern int SetSockOptLinger(int fd, int level, int name, ref Linger value, int length);

    /// <summary>What the loop reports for each endpoint number.</summary>
    internal enum Outcome { Closed, Open, Filtered }

    /// <summary>
    /// Runs one event loop over endpoint numbers taken from <paramref name="take"/> until it returns -1,
    /// with at most <paramref name="capacity"/> connections pending. <paramref name="slots"/> is this loop's
    /// share of the in-flight table the resume watermark reads.
    /// </summary>
    /// <summary>Writes endpoint <paramref name="index"/>'s address into <paramref name="address"/> (4 or 16 bytes); returns its family and port.</summary>
    public delegate (AddressFamily Family, int Port) EndpointWriter(long index, Span<byte> address);

    public static void Run(Func<int, long> take, EndpointWriter endpoint,
        Action<long, Outcome> done, Memory<long> slots, int capacity, TimeSpan timeout, CancellationToken ct)
    {
        var ep = EpollCreate1(SockCloexec);
        if (ep < 0)
        {
            throw new InvalidOperationException("epoll_create1 failed: errno " + Marshal.GetLastPInvokeError());
        }
        var fds = new int[capacity];
        var index = new long[capacity];
        var deadline = new long[capacity];
        var free = new Stack<int>(Enumerable.Range(0, capacity).Reverse());
        var events = new EpollEvent[256];
        var sa4 = new byte[16];
        var sa6 = new byte[28];
        var address = new byte[16];
        var timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var pending = 0;
        var exhausted = false;
        long retry = -1;
        var nextSweep = Stopwatch.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested && (!exhausted || pending > 0))
            {
                // Start new attempts while there is room.
                while (!exhausted && free.Count > 0 && !ct.IsCancellationRequested)
                {
                    var slot = free.Peek();
                    long i;
                    if (retry >= 0)
                    {
                        i = retry;
                        retry = -1;
                    }
                    else
                    {
                        i = take(slot);
                        if (i < 0)
                        {
                            exhausted = true;
                            break;
                        }
                    }
                    slots.Span[slot] = i;
                    var (family, port) = endpoint(i, address);
                    byte[] sa;
                    if (family == AddressFamily.InterNetwork)
                    {
                        sa = sa4;
                        BitConverter.TryWriteBytes(sa.AsSpan(0, 2), (ushort)AfInet);
                        sa[2] = (byte)(port >> 8);
                        sa[3] = (byte)port;
                        address.AsSpan(0, 4).CopyTo(sa.AsSpan(4));
                    }
                    else
                    {
                        sa = sa6;
                        BitConverter.TryWriteBytes(sa.AsSpan(0, 2), (ushort)AfInet6);
                        sa[2] = (byte)(port >> 8);
                        sa[3] = (byte)port;
                        address.AsSpan(0, 16).CopyTo(sa.AsSpan(8));
                    }
                    var fd = Socket(family == AddressFamily.InterNetwork ? AfInet : AfInet6, SockStream | SockNonBlock | SockCloexec, 0);
                    if (fd < 0)
                    {
                        var err = Marshal.GetLastPInvokeError();
                        if (err is EMFile or ENFile && pending > 0)
                        {
                            retry = i; // out of descriptors: finish some pending attempts first
                            break;
                        }
                        throw new InvalidOperationException("socket() failed: errno " + err);
                    }
                    var r = Connect(fd, sa, sa.Length);
                    var errno = r == 0 ? 0 : Marshal.GetLastPInvokeError();
                    if (r == 0)
                    {
                        Reset(fd);
                        slots.Span[slot] = long.MaxValue;
                        done(i, Outcome.Open);
                    }
                    else if (errno == EInProgress)
                    {
                        var ev = new EpollEvent { Events = EpollOut | EpollErr | EpollHup, Data = (ulong)slot };
                        if (EpollCtl(ep, EpollCtlAdd, fd, ref ev) != 0)
                        {
                            throw new InvalidOperationException("epoll_ctl failed: errno " + Marshal.GetLastPInvokeError());
                        }
                        free.Pop();
                        fds[slot] = fd;
                        index[slot] = i;
                        deadline[slot] = Stopwatch.GetTimestamp() + timeoutTicks;
                        pending++;
                    }
                    else if (errno is EAgain or EAddrNotAvail)
                    {
                        Close(fd); // no local port free right now: try this endpoint again shortly
                        retry = i;
                        break;
                    }
                    else
                    {
                        Close(fd);
                        slots.Span[slot] = long.MaxValue;
                        done(i, errno == EConnRefused ? Outcome.Closed : Outcome.Filtered);
                    }
                }

                if (pending == 0)
                {
                    if (retry >= 0)
                    {
                        Thread.Sleep(1);
                    }
                    continue;
                }
                var n = EpollWait(ep, events, events.Length, free.Count == 0 || exhausted || retry >= 0 ? 20 : 0);
                if (n < 0 && Marshal.GetLastPInvokeError() != EIntr)
                {
                    throw new InvalidOperationException("epoll_wait failed: errno " + Marshal.GetLastPInvokeError());
                }
                for (var k = 0; k < n; k++)
                {
                    var slot = (int)events[k].Data;
                    var fd = fds[slot];
                    var soError = 0;
                    var len = sizeof(int);
                    GetSockOptInt(fd, SolSocket, SoError, ref soError, ref len);
                    if (soError == 0)
                    {
                        Reset(fd);
                    }
                    else
                    {
                        Close(fd);
                    }
                    Finish(slot, soError == 0 ? Outcome.Open : soError == EConnRefused ? Outcome.Closed : Outcome.Filtered);
                }
                // Silent ports: give up on them at their deadline (filtered).
                var now = Stopwatch.GetTimestamp();
                if (now >= nextSweep)
                {
                    nextSweep = now + Stopwatch.Frequency / 20;
                    for (var slot = 0; slot < capacity; slot++)
                    {
                        if (fds[slot] > 0 && deadline[slot] <= now)
                        {
                            Close(fds[slot]);
                            Finish(slot, Outcome.Filtered);
                        }
                    }
                }
            }
        }
        finally
        {
            for (var slot = 0; slot < capacity; slot++)
            {
                if (fds[slot] > 0)
                {
                    Close(fds[slot]);
                }
            }
            Close(ep);
        }

        void Finish(int slot, Outcome outcome)
        {
            var i = index[slot];
            fds[slot] = 0;
            free.Push(slot);
            pending--;
            done(i, outcome);
            slots.Span[slot] = long.MaxValue;
        }
    }

    /// <summary>Close an accepted connection with RST (linger 0): nothing left in TIME_WAIT.</summary>
    private static void Reset(int fd)
    {
        var linger = new Linger { OnOff = 1, Seconds = 0 };
        SetSockOptLinger(fd, SolSocket, SoLinger, ref linger, Marshal.SizeOf<Linger>());
        Close(fd);
    }
}
