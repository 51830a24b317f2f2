using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Portcullis.Smtp;

namespace Portcullis.Audit.Canary;

/// <summary>
/// The built-in canary mail receiver (catalog §6.2 stage 2): a small SMTP server on --canary-listen that
/// accepts every message and records the audit tokens it finds in recipients, subject or body. A relay is
/// "proven" only when the token of that relay test arrives here (issue 4). It stores nothing but the hits.
/// </summary>
public sealed partial class SmtpCanary : IAsyncDisposable
{
    private const int MaxLine = 4096;
    private const int MaxMessage = 1 << 20;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<SmtpCanaryHit>> _hits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _issued = new(StringComparer.Ordinal);
    private readonly Task _acceptLoop;
    private readonly List<Task> _sessions = [];
    private event Action? Changed;

    private SmtpCanary(TcpListener listener)
    {
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts listening at once (throws SocketException when the address is taken).</summary>
    public static SmtpCanary Start(IPEndPoint listen)
    {
        var l = new TcpListener(listen);
        l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Start(64);
        return new SmtpCanary(l);
    }

    /// <summary>A fresh unguessable token ("pc" + 12 hex digits): lower case so that no MTA's case folding can change it.</summary>
    public string NewToken()
    {
        var t = "pc" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        _issued[t] = 0;
        return t;
    }

    public IReadOnlyList<SmtpCanaryHit> HitsFor(string token) =>
        _hits.TryGetValue(token, out var q) ? q.ToList() : [];

    /// <summary>True when a message addressed to the token's recipient arrived.</summary>
    public bool Proven(string token) => HitsFor(token).Any(h => h.InRecipient);

    /// <summary>Waits until every token is proven or the time is up (the wait ends as soon as all are in).</summary>
    public async Task WaitForAsync(IReadOnlyCollection<string> tokens, TimeSpan timeout, CancellationToken ct)
    {
        if (tokens.Count == 0)
        {
            return;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (tokens.All(Proven))
            {
                done.TrySetResult();
            }
        }
        Changed += Check;
        try
        {
            Check();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            await using (cts.Token.Register(() => done.TrySetResult()))
            {
                await done.Task.ConfigureAwait(false);
            }
            ct.ThrowIfCancellationRequested();
        }
        finally
        {
            Changed -= Check;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            lock (_sessions)
            {
                _sessions.RemoveAll(t => t.IsCompleted);
                _sessions.Add(Task.Run(() => SessionAsync(client)));
            }
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var peer = ((IPEndPoint)client.Client.RemoteEndPoint!).Address;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            cts.CancelAfter(TimeSpan.FromMinutes(2));
            var stream = client.GetStream();
            var reader = new LineReader(stream);
            async Task Say(string s) => await stream.WriteAsync(Encoding.ASCII.GetBytes(s + "\r\n"), cts.Token).ConfigureAwait(false);
            await Say("220 portcullis-canary ESMTP audit canary").ConfigureAwait(false);
            var from = "";
            var rcpts = new List<string>();
            while (true)
            {
                var line = await reader.ReadLineAsync(cts.Token).ConfigureAwait(false);
                if (line is null)
                {
                    return;
                }
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await Say("250-portcullis-canary\r\n250-8BITMIME\r\n250 PIPELINING").ConfigureAwait(false);
                        break;
                    case "HELO":
                        await Say("250 portcullis-canary").ConfigureAwait(false);
                        break;
                    case "MAIL":
                        from = line.Length > 10 ? line[10..] : "";
                        rcpts.Clear();
                        await Say("250 2.1.0 Ok").ConfigureAwait(false);
                        break;
                    case "RCPT":
                        rcpts.Add(line.Length > 8 ? line[8..] : "");
                        await Say("250 2.1.5 Ok").ConfigureAwait(false);
                        break;
                    case "DATA":
                        await Say("354 End data with <CR><LF>.<CR><LF>").ConfigureAwait(false);
                        var body = new StringBuilder();
                        while (true)
                        {
                            var l = await reader.ReadLineAsync(cts.Token).ConfigureAwait(false);
                            if (l is null)
                            {
                                return;
                            }
                            if (l == ".")
                            {
                                break;
                            }
                            if (body.Length < MaxMessage)
                            {
                                body.Append(l).Append('\n');
                            }
                        }
                        Record(peer, from, rcpts.ToList(), body.ToString());
                        await Say("250 2.0.0 Ok: recorded by the audit canary").ConfigureAwait(false);
                        break;
                    case "RSET":
                        from = "";
                        rcpts.Clear();
                        await Say("250 2.0.0 Ok").ConfigureAwait(false);
                        break;
                    case "NOOP":
                        await Say("250 2.0.0 Ok").ConfigureAwait(false);
                        break;
                    case "QUIT":
                        await Say("221 2.0.0 Bye").ConfigureAwait(false);
                        return;
                    default:
                        await Say("502 5.5.1 Command not implemented").ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void Record(IPAddress peer, string from, IReadOnlyList<string> rcpts, string body)
    {
        var now = DateTimeOffset.UtcNow;
        var inRcpt = new HashSet<string>(rcpts.SelectMany(r => TokenPattern().Matches(r.ToLowerInvariant()).Select(m => m.Value)), StringComparer.Ordinal);
        var all = new HashSet<string>(inRcpt, StringComparer.Ordinal);
        all.UnionWith(TokenPattern().Matches(body.ToLowerInvariant()).Select(m => m.Value));
        foreach (var token in all.Where(_issued.ContainsKey))
        {
            _hits.GetOrAdd(token, _ => new ConcurrentQueue<SmtpCanaryHit>())
                .Enqueue(new SmtpCanaryHit(token, inRcpt.Contains(token), peer, from, rcpts, now));
        }
        Changed?.Invoke();
    }

    [GeneratedRegex("pc[0-9a-f]{12}")]
    private static partial Regex TokenPattern();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }
        await Task.WhenAll(sessions).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>CRLF or LF terminated lines with a length cap (the canary is lenient: it only looks for tokens).</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly SmtpReplyReader _inner = new(stream, MaxLine);

        public Task<string?> ReadLineAsync(CancellationToken ct) => _inner.ReadLineAsync(ct);
    }
}
