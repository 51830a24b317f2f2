namespace Portcullis.Server.Hosting;

/// <summary>
/// Where .NET runs the code that follows a socket read or write that had to wait, and on how many event
/// threads. By default the socket event thread (epoll) hands each such continuation to the thread pool: a
/// wake-up of a worker and a context switch per SMTP command, seven per message. An SMTP command's work is
/// short (parse, look up the directory snapshot, format a reply), so the server runs it on the event thread
/// itself, which .NET offers only process-wide through an environment variable (about 5% more messages per
/// second at 10 inbound sessions and less CPU per message, bench/RESULTS.md, "accept, session 7").
/// With that, .NET would start one event thread per core. The server asks for half as many (at least one):
/// what the event threads run is short, the rest of a message's work (its processing after the final dot,
/// the Maildir writes and flushes) runs on other threads, and every extra thread that wakes competes for the
/// same cores; on this 2-core machine one event thread used 0.54-0.61 ms of CPU per message at 10 sessions
/// against 0.58-0.71 with two, and accepted 9% more messages per second (9 of 11 interleaved pairs; 1 and 50
/// sessions unchanged; bench/RESULTS.md, "accept, session 8").
/// What may block or compute for long is moved off the event threads on purpose: a message's processing after
/// its final dot (Maildir writes, MIME preparation, DKIM signing, the queue commit) starts with a hop to the
/// thread pool, and a password check (PBKDF2) runs on the pool. A TLS handshake's cryptography (about a
/// millisecond) still runs where its reads complete.
/// An administrator who sets either variable keeps that choice.
/// </summary>
public static class SocketEventThreads
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    public const string CountVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>
    /// Asks for continuations on the event threads unless the environment already says otherwise, and, when they
    /// run there, for half as many event threads as cores (at least one) unless the count is set; returns whether
    /// they run there. Call before the process creates its first socket: .NET reads both variables once.
    /// </summary>
    public static bool PreferInline()
    {
        var inline = true;
        if (Environment.GetEnvironmentVariable(Variable) is { } set)
        {
            inline = set == "1";
        }
        else
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
        if (inline && Environment.GetEnvironmentVariable(CountVariable) is null)
        {
            Environment.SetEnvironmentVariable(CountVariable, EventThreadsFor(Environment.ProcessorCount).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return inline;
    }

    /// <summary>The event threads the server asks for on a machine with <paramref name="cores"/> cores: half, at least one.</summary>
    public static int EventThreadsFor(int cores) => Math.Max(1, cores / 2);
}
