using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp;

/// <summary>A ready session: connected, greeted, EHLO done (and STARTTLS when asked).</summary>
public sealed record OpenSession(SmtpProbe Probe, EhloReply Ehlo);

/// <summary>
/// Opens probe sessions to one endpoint the same way every time: wait for the politeness gate (rate of new
/// connections), connect, read the greeting, EHLO (HELO when EHLO is refused), and optionally STARTTLS
/// followed by a fresh EHLO (RFC 3207 §4.2: the session starts over after TLS).
/// </summary>
public sealed class SessionOpener(SmtpEndpoint endpoint, ProbeOptions options, string heloName, Func<CancellationToken, Task> gate)
{
    public SmtpEndpoint Endpoint => endpoint;
    public ProbeOptions Options => options;
    public string HeloName => heloName;
    public Func<CancellationToken, Task> Gate => gate;

    /// <param name="hello">False to stop after the greeting (plaintext only): the caller sends its own EHLO/HELO.</param>
    public async Task<OpenSession> OpenAsync(Transcript transcript, bool startTls, CancellationToken ct, bool hello = true)
    {
        await gate(ct).ConfigureAwait(false);
        var probe = await SmtpProbe.ConnectAsync(endpoint, options, transcript, ct).ConfigureAwait(false);
        try
        {
            if (probe.Greeting.Code != 220)
            {
                throw new ProbeLostException(ProbeLoss.Closed, "greeting refused service: " + probe.Greeting);
            }
            if (!hello && !startTls)
            {
                return new OpenSession(probe, new EhloReply(probe.Greeting));
            }
            var ehlo = await HelloAsync(probe, heloName, ct).ConfigureAwait(false);
            if (startTls && !probe.IsTls)
            {
                var r = await probe.CommandAsync("STARTTLS", ct).ConfigureAwait(false);
                if (r.Code != 220)
                {
                    throw new ProbeLostException(ProbeLoss.Closed, "STARTTLS refused: " + r);
                }
                await probe.UpgradeToTlsAsync(ct).ConfigureAwait(false);
                ehlo = await HelloAsync(probe, heloName, ct).ConfigureAwait(false);
            }
            return new OpenSession(probe, ehlo);
        }
        catch
        {
            await probe.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>EHLO, falling back to HELO for a server without ESMTP.</summary>
    public static async Task<EhloReply> HelloAsync(SmtpProbe probe, string name, CancellationToken ct)
    {
        var reply = await probe.CommandAsync("EHLO " + name, ct).ConfigureAwait(false);
        if (reply.Code is >= 500 and < 600)
        {
            reply = await probe.CommandAsync("HELO " + name, ct).ConfigureAwait(false);
        }
        if (reply.Code == 421)
        {
            throw new ProbeLostException(ProbeLoss.Closed, "server is closing: " + reply);
        }
        return new EhloReply(reply);
    }

    /// <summary>A 421 (RFC 5321 §3.8) means the server is about to close: treat like a dropped connection.</summary>
    public static SmtpReply NotClosing(SmtpReply reply) =>
        reply.Code == 421 ? throw new ProbeLostException(ProbeLoss.Closed, "server is closing: " + reply) : reply;
}
