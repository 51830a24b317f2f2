using System.Runtime.InteropServices;

namespace Portcullis.Audit.Scan.Syn;

/// <summary>
/// The few Linux calls SYN discovery needs, on a raw IPv4 TCP socket (raw(7)): socket, setsockopt, a
/// classic BPF filter (SO_ATTACH_FILTER, socket(7)), and sendmmsg(2)/recvmmsg(2) so one system call moves
/// a batch of packets. Layouts are those of LP64 Linux (x64 and arm64).
/// </summary>
internal static unsafe class LinuxRawSocket
{
    public const int AfInet = 2;
    public const int SockDgram = 2, SockRaw = 3, SockCloexec = 0x80000;
    public const int IpProtoTcp = 6, IpProtoUdp = 17, IpProtoRaw = 255;
    public const int SolSocket = 1, SoSndBuf = 7, SoRcvBuf = 8, SoAttachFilter = 26, SoSndBufForce = 32, SoRcvBufForce = 33;
    public const int MsgDontWait = 0x40, MsgWaitForOne = 0x10000;
    public const int EPerm = 1, EIntr = 4, EAgain = 11, EAcces = 13, ENoBufs = 105;

    public static bool Supported => OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    /// <summary>struct sockaddr_in: family, port and address in network byte order, 8 bytes of zero.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort PortBigEndian;
        public uint AddressBigEndian;
        public ulong Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilter
    {
        public ushort Code;
        public byte JumpTrue;
        public byte JumpFalse;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static extern int SetSockOpt(int fd, int level, int name, void* value, int length);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static extern int Connect(int fd, SockAddrIn* address, int length);

    [DllImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static extern int GetSockName(int fd, SockAddrIn* address, int* length);

    [DllImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    public static extern int SendMMsg(int fd, MMsgHdr* messages, uint count, int flags);

    [DllImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static extern int RecvMMsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    public static string ErrorText(int errno) => errno switch
    {
        EPerm => "EPERM, operation not permitted",
        EAcces => "EACCES, permission denied",
        _ => "errno " + errno,
    };

    [DllImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static extern int GetSockOpt(int fd, int level, int name, void* value, int* length);

    public static int GetInt(int fd, int level, int name)
    {
        int value = 0, length = sizeof(int);
        return GetSockOpt(fd, level, name, &value, &length) == 0 ? value : 0;
    }

    public static bool SetInt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int)) == 0;

    /// <summary>Sets a socket buffer size: the FORCE variant (CAP_NET_ADMIN) passes net.core.[rw]mem_max, else the plain one.</summary>
    public static void SetBuffer(int fd, int force, int plain, int bytes)
    {
        if (!SetInt(fd, SolSocket, force, bytes))
        {
            SetInt(fd, SolSocket, plain, bytes);
        }
    }

    public static bool AttachFilter(int fd, ReadOnlySpan<SockFilter> program)
    {
        fixed (SockFilter* p = program)
        {
            var prog = new SockFprog { Length = (ushort)program.Length, Filter = p };
            return SetSockOpt(fd, SolSocket, SoAttachFilter, &prog, sizeof(SockFprog)) == 0;
        }
    }

    public static SockAddrIn Address(uint address, int port) => new()
    {
        Family = AfInet,
        PortBigEndian = (ushort)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)port),
        AddressBigEndian = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(address),
    };
}
