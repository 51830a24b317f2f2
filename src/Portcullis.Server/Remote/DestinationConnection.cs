using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>What happened to one recipient in one attempt: delivered (with the server's reply) or not.</summary>
/// <param name="NextHopTakesDsn">the next hop advertised DSN, so NOTIFY went on to it (RFC 3461 §5.2.1) and a
/// success is reported there, not here</param>
/// <param name="RemoteMta">the next hop that answered ("mx.example.net[192.0.2.1]:25")</param>
public sealed record RecipientAttempt(DeliveryWork Work, RemoteFailure? Failure, string? Reply, bool NextHopTakesDsn = false, string? RemoteMta = null);

/// <summary>
/// One SMTP connection to one destination (an MX host or the smarthost), reused for every message queued
/// for it: it tries the hosts in order of preference and their addresses in order until one answers,
/// refuses to connect to Portcullis's own listeners (mail loop), negotiates STARTTLS as the next hop
/// requires, and sends each message as one transaction with all of its recipients for this destination.
/// </summary>
public sealed partial class DestinationConnection(string destination, NextHop hop, OwnEndpoints own, string heloName, ILogger logger) : IAsyncDisposable
{
    private static readonly FormatOptions Wire = CreateWireFormat();
    private RecordingSmtpClient? _client;
    private string _remote = "";

    public bool IsConnected => _client is { IsConnected: true };

    /// <summary>Connects to the first host of <paramref name="route"/> that answers; returns why none did.</summary>
    public async Task<RemoteFailure?> ConnectAsync(MxRoute route, CancellationToken ct)
    {
        await CloseAsync().ConfigureAwait(false);
        RemoteFailure? last = null;
        foreach (var host in route.Hosts)
        {
            // The smarthost may be a name: MailKit resolves it with the system resolver.
            var targets = host.Addresses.Count > 0 ? host.Addresses.Select(a => a.ToString()).ToList() : [host.Name];
            foreach (var target in targets)
            {
                var display = $"{host.Name}[{target}]:{hop.Port}";
                if (IPAddress.TryParse(target, out var ip) && own.IsOwn(ip, hop.Port))
                {
                    // RFC 5321 §5.1: the MX list leads back to this server. A configuration error, not the
                    // recipient's fault: defer so the administrator can fix DNS or the listeners.
                    LogLoop(destination, display);
                    last = RemoteFailure.Temporary("4.4.6", $"mail for {destination} loops back to myself ({display} is one of Portcullis's own listeners)");
                    continue;
                }
                var failure = await TryConnectAsync(target, display, hop.Tls, ct).ConfigureAwait(false);
                if (failure is null)
                {
                    return null;
                }
                if (failure == TlsFailed && hop.Opportunistic)
                {
                    // Opportunistic TLS (RFC 7435): a failed handshake is retried in plaintext, as Postfix does
                    // at smtp_tls_security_level = may.
                    LogTlsFallback(display);
                    failure = await TryConnectAsync(target, display, SecureSocketOptions.None, ct).ConfigureAwait(false);
                    if (failure is null)
                    {
                        return null;
                    }
                }
                last = failure == TlsFailed ? RemoteFailure.Temporary("4.7.5", $"TLS handshake with {display} failed") : failure;
            }
        }
        return last ?? RemoteFailure.Temporary("4.4.1", $"no host to connect to for {destination}");
    }

    private static readonly RemoteFailure TlsFailed = RemoteFailure.Temporary("4.7.5", "TLS handshake failed");

    private async Task<RemoteFailure?> TryConnectAsync(string target, string display, SecureSocketOptions tls, CancellationToken ct)
    {
        var client = new RecordingSmtpClient
        {
            LocalDomain = heloName,
            Timeout = 120_000,
            // Opportunistic: any certificate is better than plaintext (RFC 7435). Smarthost: the system's validation.
            ServerCertificateValidationCallback = hop.Opportunistic ? (_, _, _, _) => true : null,
        };
        try
        {
            await client.ConnectAsync(await OpenSocketAsync(target, ct).ConfigureAwait(false), target, hop.Port, tls, ct).ConfigureAwait(false);
            if (hop.Username is not null)
            {
                await client.AuthenticateAsync(hop.Username, hop.Password ?? "", ct).ConfigureAwait(false);
            }
            _client = client;
            _remote = display;
            LogConnected(destination, display, client.IsSecure ? $"{client.SslProtocol} {client.SslCipherSuite}" : "none",
                client.IsSecure ? "" : !hop.Opportunistic ? " (relay_tls = none)" : client.Capabilities.HasFlag(SmtpCapabilities.StartTLS) ? " (STARTTLS failed)" : " (STARTTLS not offered)");
            return null;
        }
        catch (Exception e) when (e is SslHandshakeException or System.Security.Authentication.AuthenticationException)
        {
            client.Dispose();
            return TlsFailed;
        }
        catch (MailKit.Security.AuthenticationException e)
        {
            client.Dispose();
            return RemoteFailure.Temporary("4.7.0", $"{display} refused our credentials: {e.Message}", display);
        }
        catch (SmtpCommandException e)
        {
            client.Dispose();
            return RemoteFailure.FromReply((int)e.StatusCode, e.Message, display);
        }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            client.Dispose();
            LogConnectFailed(display, e.Message);
            return RemoteFailure.Temporary("4.4.1", $"connect to {display} failed: {e.Message}");
        }
    }

    /// <summary>
    /// A connected socket with Nagle's algorithm off: the message is written in several pieces (DATA,
    /// the content, the final dot), and with Nagle each small last piece waits for the peer's delayed
    /// ACK (about 40 ms on Linux). bench/submit.sh measured delivery at 59 messages/s with Nagle on and
    /// keeping up with submission (144 messages/s) with it off.
    /// </summary>
    private async Task<Socket> OpenSocketAsync(string target, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(target, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(target, ct).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        var socket = new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(new IPEndPoint(addresses[0], hop.Port), timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends one message to its recipients at this destination as one transaction. RCPTs the server refuses
    /// fail alone; a refused MAIL or DATA fails them all. A broken connection defers the message and closes.
    /// </summary>
    public async Task<IReadOnlyList<RecipientAttempt>> SendAsync(IReadOnlyList<DeliveryWork> recipients, CancellationToken ct)
    {
        var client = _client ?? throw new InvalidOperationException("not connected");
        var first = recipients[0];
        MimeMessage message;
        MailboxAddress sender;
        var mailboxes = new List<(DeliveryWork Work, MailboxAddress Mailbox)>();
        var results = new List<RecipientAttempt>();
        try
        {
            message = MimeMessage.Load(new MemoryStream(first.Content, writable: false));
            // The null reverse-path <> (bounces) is an empty address (RFC 5321 §4.5.5).
            sender = new MailboxAddress("", first.Sender);
        }
        catch (ParseException e)
        {
            return recipients.Select(w => new RecipientAttempt(w, RemoteFailure.Fatal("5.6.0", $"queued message cannot be read: {e.Message}"), null)).ToList();
        }
        foreach (var w in recipients)
        {
            try
            {
                mailboxes.Add((w, new MailboxAddress("", w.Address)));
            }
            catch (ParseException)
            {
                results.Add(new RecipientAttempt(w, RemoteFailure.Fatal("5.1.3", $"bad recipient address syntax <{w.Address}>"), null));
            }
        }
        if (mailboxes.Count == 0)
        {
            return results;
        }

        client.BeginTransaction();
        client.EnvelopeId = first.EnvelopeId;
        // RFC 3461 §5.2.1: a DSN-capable next hop gets RET too (MailKit sends it only when the server advertises DSN).
        client.DeliveryStatusNotificationType = first.Ret?.ToUpperInvariant() switch
        {
            "HDRS" => DeliveryStatusNotificationType.HeadersOnly,
            "FULL" => DeliveryStatusNotificationType.Full,
            _ => DeliveryStatusNotificationType.Unspecified,
        };
        var notify = mailboxes.ToDictionary(m => m.Mailbox, m => ParseNotify(m.Work.Notify));
        client.Notify = m => notify.GetValueOrDefault(m);
        try
        {
            var reply = await client.SendAsync(Wire, message, sender, mailboxes.Select(m => m.Mailbox), ct).ConfigureAwait(false);
            foreach (var (w, m) in mailboxes)
            {
                results.Add(client.Refused.TryGetValue(m.Address, out var refused)
                    ? new RecipientAttempt(w, RemoteFailure.FromReply((int)refused.StatusCode, refused.Response, _remote), null)
                    : new RecipientAttempt(w, null, $"{_remote} said: 250 {reply}", client.Capabilities.HasFlag(SmtpCapabilities.Dsn), _remote));
            }
        }
        catch (SmtpCommandException e)
        {
            // MAIL refused (SenderNotAccepted), every RCPT refused or DATA refused (MessageNotAccepted).
            var all = RemoteFailure.FromReply((int)e.StatusCode, e.Message, _remote);
            foreach (var (w, m) in mailboxes)
            {
                results.Add(new RecipientAttempt(w, client.Refused.TryGetValue(m.Address, out var refused)
                    ? RemoteFailure.FromReply((int)refused.StatusCode, refused.Response, _remote)
                    : all, null));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            // The reply to the final dot may have been lost: retrying may deliver twice, which RFC 5321
            // §6.1 accepts over losing the message.
            var failure = RemoteFailure.Temporary("4.4.2", $"connection to {_remote} broke: {e.Message}");
            results.AddRange(mailboxes.Select(m => new RecipientAttempt(m.Work, failure, null)));
            await CloseAsync().ConfigureAwait(false);
        }
        return results;
    }

    /// <summary>RFC 3461 §4.1 NOTIFY, passed on to the next hop when it supports DSN.</summary>
    private static MailKit.DeliveryStatusNotification? ParseNotify(string? notify)
    {
        if (notify is null)
        {
            return null;
        }
        MailKit.DeliveryStatusNotification flags = 0;
        foreach (var item in notify.Split(',', StringSplitOptions.TrimEntries))
        {
            flags |= item.ToUpperInvariant() switch
            {
                "NEVER" => MailKit.DeliveryStatusNotification.Never,
                "SUCCESS" => MailKit.DeliveryStatusNotification.Success,
                "FAILURE" => MailKit.DeliveryStatusNotification.Failure,
                "DELAY" => MailKit.DeliveryStatusNotification.Delay,
                _ => 0,
            };
        }
        return flags == 0 ? null : flags;
    }

    private static FormatOptions CreateWireFormat()
    {
        var f = FormatOptions.Default.Clone();
        f.NewLineFormat = NewLineFormat.Dos;
        return f;
    }

    public async Task CloseAsync()
    {
        var client = _client;
        _client = null;
        if (client is null)
        {
            return;
        }
        try
        {
            if (client.IsConnected)
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(true, quit.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or OperationCanceledException or SmtpCommandException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    [LoggerMessage(Level = LogLevel.Information, Message = "connected to {Remote} for {Destination}, tls={Tls}{Note}")]
    private partial void LogConnected(string destination, string remote, string tls, string note);

    [LoggerMessage(Level = LogLevel.Warning, Message = "connect to {Remote} failed: {Error}")]
    private partial void LogConnectFailed(string remote, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS handshake with {Remote} failed; trying again without TLS (opportunistic)")]
    private partial void LogTlsFallback(string remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "mail loop: an MX host of {Destination} is {Remote}, one of Portcullis's own listeners; check the domain's MX records, delivery.mx_port and [listeners] (deferred)")]
    private partial void LogLoop(string destination, string remote);
}
