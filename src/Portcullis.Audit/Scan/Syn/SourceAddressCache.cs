namespace Portcullis.Audit.Scan.Syn;

/// <summary>
/// The source address the kernel would use towards a target (its route's preferred source): connect(2) on a
/// UDP socket picks it without sending anything, getsockname(2) reads it. The TCP checksum covers it, so it
/// must be the one the kernel will put in the IPv4 header. The last answer is kept: a scan asks for the same
/// address once per port in a row.
/// </summary>
internal sealed unsafe class SourceAddressCache : IDisposable
{
    private readonly int _fd;
    private uint _lastTarget;
    private uint _lastSource;
    private bool _has;

    public SourceAddressCache()
    {
        _fd = LinuxRawSocket.Socket(LinuxRawSocket.AfInet, LinuxRawSocket.SockDgram | LinuxRawSocket.SockCloexec, LinuxRawSocket.IpProtoUdp);
        if (_fd < 0)
        {
            throw new InvalidOperationException("socket(AF_INET, SOCK_DGRAM) failed: " + LinuxRawSocket.ErrorText(System.Runtime.InteropServices.Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>False when there is no route (or the target is a broadcast address): no probe goes out, the endpoint ends filtered.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(uint target, out uint source)
    {
        if (_has && target == _lastTarget)
        {
            source = _lastSource;
            return source != 0;
        }
        var to = LinuxRawSocket.Address(target, 9);
        var local = default(LinuxRawSocket.SockAddrIn);
        var length = sizeof(LinuxRawSocket.SockAddrIn);
        source = 0;
        if (LinuxRawSocket.Connect(_fd, &to, sizeof(LinuxRawSocket.SockAddrIn)) == 0
            && LinuxRawSocket.GetSockName(_fd, &local, &length) == 0)
        {
            source = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(local.AddressBigEndian);
        }
        _has = true;
        _lastTarget = target;
        _lastSource = source;
        return source != 0;
    }

    public void Dispose() => LinuxRawSocket.Close(_fd);
}
