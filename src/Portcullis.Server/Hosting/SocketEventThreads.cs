namespace Portcullis.Server.Hosting;

/// <summary>
/// Where .NET runs the code that follows a socket read or write that had to wait. By default the socket
/// event thread (epoll) hands each such continuation to the thread pool: a wake-up of a worker and a
/// context switch per SMTP command, seven per message. An SMTP command's work is short (parse, look up the
/// directory snapshot, format a reply), so the server runs it on the event thread itself, which .NET offers
/// only process-wide through this environment variable; with it .NET also starts one event thread per core
/// instead of one, so no core is left idle. Measured at 10 inbound sessions: about 5% more messages per
/// second and less CPU per message (bench/RESULTS.md, "accept, session 7").
/// What may block or compute for long is moved off the event threads on purpose: a message's processing after
/// its final dot (Maildir writes, MIME preparation, DKIM signing, the queue commit) starts with a hop to the
/// thread pool, and a password check (PBKDF2) runs on the pool. A TLS handshake's cryptography (about a
/// millisecond) still runs where its reads complete.
/// An administrator who sets the variable (0 or 1) keeps that choice.
/// </summary>
public static class SocketEventThreads
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Asks for continuations on the event threads unless the environment already says otherwise; returns
    /// whether they run there. Call before the process creates its first socket: .NET reads the variable once.
    /// </summary>
    public static bool PreferInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } set)
        {
            return set == "1";
        }
        Environment.SetEnvironmentVariable(Variable, "1");
        return true;
    }
}
