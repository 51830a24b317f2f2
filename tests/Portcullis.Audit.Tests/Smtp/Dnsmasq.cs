using System.Diagnostics;
using System.Net.Sockets;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>
/// A real DNS server (dnsmasq, Debian package) on a loopback address, answering only the records given,
/// with no upstream: DESIGN.md "fakes only for what cannot be real here" (MX records of test domains).
/// </summary>
public sealed class Dnsmasq : IDisposable
{
    private readonly Process _process;

    public Dnsmasq(string address, int port, params string[] records)
    {
        var psi = new ProcessStartInfo("dnsmasq") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--keep-in-foreground", $"--port={port}", $"--listen-address={address}", "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root", "--pid-file=", "--log-facility=-" })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var r in records)
        {
            psi.ArgumentList.Add(r);
        }
        _process = Process.Start(psi)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        // dnsmasq binds before it forks nothing (foreground); wait until UDP answers.
        for (var i = 0; i < 50; i++)
        {
            if (Answers(address, port))
            {
                return;
            }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException("dnsmasq did not start on " + address);
    }

    private static bool Answers(string address, int port)
    {
        using var u = new UdpClient();
        u.Client.ReceiveTimeout = 200;
        // A query for "." NS: any answer (even REFUSED) shows dnsmasq listens.
        byte[] q = [0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
        try
        {
            u.Send(q, q.Length, address, port);
            var from = new System.Net.IPEndPoint(0, 0);
            return u.Receive(ref from).Length > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
