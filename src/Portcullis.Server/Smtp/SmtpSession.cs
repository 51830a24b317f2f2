using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Delivery;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Remote;
using Portcullis.Smtp;

namespace Portcullis.Server.Smtp;

/// <summary>
/// One SMTP conversation. It reads commands with the strict <see cref="SmtpInput"/>, lets
/// <see cref="SmtpStateTable"/> decide what may run, asks <see cref="RecipientPolicy"/> about every
/// recipient, and replies with typed <see cref="SmtpReply"/> values. It never inspects addresses itself.
/// </summary>
public sealed partial class SmtpSession
{
    private const int MaxCommandLine = 512;   // RFC 5321 §4.5.3.1.4, CRLF included
    private const int MaxTextLine = 1000;     // RFC 5321 §4.5.3.1.6, CRLF included

    private readonly ServerContext _server;
    private readonly Stream _network;
    private readonly IPEndPoint _remote;
    private readonly ListenerKind _listener;
    private readonly Func<bool> _socketHasInput;
    private Stream _stream;
    private SmtpInput _input;
    private readonly CancellationTokenSource _timeout = new();

    /// <summary>The session's end: the timeout in <see cref="_timeout"/> ran out, or the server is stopping.</summary>
    private CancellationToken _sessionEnds;
    private readonly ILogger _logger;

    private SessionState _state = SessionState.Connected;
    private string? _helo;
    private bool _esmtp;
    private bool _tls;
    private string? _authenticatedUser = null; // set by AUTH on the submission listeners (issue 3)
    private int _errors;
    private int _messages;
    private int _refused;
    private string _endReason = "error";

    // The current transaction.
    private MailPath? _sender;
    private EsmtpParameters _mailParameters = EsmtpParameters.None;
    private readonly List<(QueuedRecipient Recipient, string Original)> _recipients = [];
    private int _acceptedRecipients; // RCPT commands accepted, duplicates included (RFC 5321 §4.5.3.1.8)
    private int _acceptedRecipientsInMessage;

    public SmtpSession(ServerContext server, Stream network, IPEndPoint remote, ListenerKind listener, Func<bool> socketHasInput)
    {
        _server = server;
        _network = network;
        _stream = network;
        _remote = remote;
        _listener = listener;
        _socketHasInput = socketHasInput;
        _input = new SmtpInput(network);
        _logger = server.Log;
    }

    private Configuration.LimitsSection Limits => _server.Settings.Limits;
    private string Hostname => _server.Settings.Server.Hostname;
    private bool PipeliningNegotiated => _esmtp;

    private ClientFacts Client => new(
        _remote.Address.IsIPv4MappedToIPv6 ? _remote.Address.MapToIPv4() : _remote.Address,
        _listener, _tls, _authenticatedUser,
        _server.Settings.Relay.TrustedNetworks.Any(n => n.Contains(_remote.Address)));

    public async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, _server.Stopping);
        _sessionEnds = stop.Token;
        try
        {
            if (_listener == ListenerKind.Submissions)
            {
                // RFC 8314 §3.3: implicit TLS, the handshake comes before the greeting.
                if (!await HandshakeAsync().ConfigureAwait(false))
                {
                    _endReason = "tls-handshake-failed";
                    return;
                }
            }
            // Input before the greeting is a client that does not wait for its turn (RFC 5321 §4.3.1;
            // Postfix postscreen "pregreet"): refuse it.
            if (_socketHasInput())
            {
                await ReplyAsync(Replies.ProtocolSynchronization).ConfigureAwait(false);
                LogRefusal("pregreet", Replies.ProtocolSynchronization, "client talked before the greeting");
                _endReason = "pregreet";
                return;
            }
            await ReplyAsync(new SmtpReply(220, null, $"{Hostname} ESMTP Portcullis")).ConfigureAwait(false);
            await CommandLoopAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_server.Stopping.IsCancellationRequested)
        {
            _endReason = "shutdown";
            await TryReplyAsync(Replies.ShuttingDown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _endReason = _stressExpired ? "stress-timeout" : "timeout";
            await TryReplyAsync(Replies.Timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or AuthenticationException or ObjectDisposedException)
        {
            _endReason = "connection-lost";
        }
        catch (Exception e)
        {
            _endReason = "internal-error";
            _logger.LogError(e, "session with {Client} failed", _remote);
            await TryReplyAsync(Replies.TransientLocalError).ConfigureAwait(false);
        }
        finally
        {
            _input.Complete();
            _timeout.Dispose();
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogSession(_remote.ToString(), _listener, _helo ?? "-", _tls, _authenticatedUser ?? "-", _messages, _refused, _endReason, (long)ms);
            _server.Metrics.SessionEnded(_listener, _endReason);
        }
    }

    private async Task CommandLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            _timeout.CancelAfter(Limits.CommandTimeout);
            // Read up to the AUTH limit (RFC 4954 §4: 12288 octets); every other command keeps 512.
            BeginWaitingForClient();
            var line = await _input.ReadCommandAsync(MaxAuthLine, ct).ConfigureAwait(false);
            EndWaitingForClient();
            if (line.Kind == LineKind.Line && line.Text.Length + 2 > MaxCommandLine && !line.Text.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase))
            {
                line = new CommandLine(LineKind.TooLong, "");
            }
            SmtpReply reply;
            switch (line.Kind)
            {
                case LineKind.EndOfStream:
                    _endReason = _state == SessionState.Connected && _messages == 0 ? "disconnected-early" : "disconnected";
                    return;
                case LineKind.TooLong:
                    reply = Replies.LineTooLong;
                    break;
                case LineKind.BareLineEnding:
                    reply = Replies.BareLineEnding;
                    break;
                case LineKind.Nul:
                    reply = Replies.NulReceived;
                    break;
                default:
                    var cmd = SmtpCommand.Parse(line.Text);
                    // Pipelining discipline (RFC 2920 §3.1; Postfix smtpd_forbid_unauth_pipelining; catalog §2.3):
                    // without PIPELINING nothing may wait behind a command, and with it nothing may wait behind
                    // a command that ends a group.
                    if (cmd.Verb != SmtpVerb.Quit && cmd.Verb != SmtpVerb.StartTls && (!PipeliningNegotiated || SmtpStateTable.EndsPipelineGroup(cmd.Verb)) && _input.HasBufferedInput())
                    {
                        await ReplyAsync(Replies.ProtocolSynchronization).ConfigureAwait(false);
                        LogRefusal("unauthorized-pipelining", Replies.ProtocolSynchronization, $"input waiting after {cmd.VerbText.ToUpperInvariant()}");
                        _endReason = "protocol-synchronization";
                        return;
                    }
                    var refusal = SmtpStateTable.Check(cmd.Verb, _state);
                    if (refusal is not null)
                    {
                        reply = refusal;
                        break;
                    }
                    var outcome = await HandleAsync(cmd, ct).ConfigureAwait(false);
                    if (outcome is null)
                    {
                        return; // the handler ended the session (QUIT, synchronisation error, TLS failure)
                    }
                    reply = outcome;
                    break;
            }

            if (reply.Code >= 400 && reply != Replies.TooManyRecipients)
            {
                _errors++;
                if (reply.Code != 421 && _errors >= Limits.MaxErrors)
                {
                    await ReplyAsync(reply).ConfigureAwait(false);
                    await ReplyAsync(Replies.TooManyErrors).ConfigureAwait(false);
                    LogRefusal("too-many-errors", Replies.TooManyErrors, $"{_errors} errors");
                    _endReason = "too-many-errors";
                    return;
                }
            }
            await ReplyAsync(reply).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one command the state table allowed. Null means the session is over.</summary>
    private async Task<SmtpReply?> HandleAsync(SmtpCommand cmd, CancellationToken ct)
    {
        switch (cmd.Verb)
        {
            case SmtpVerb.Ehlo:
            case SmtpVerb.Helo:
                return Hello(cmd);
            case SmtpVerb.Mail:
                return Mail(cmd.Argument, directoryCurrent: false) ?? await MailAfterCatchUpAsync(cmd.Argument, ct).ConfigureAwait(false);
            case SmtpVerb.Rcpt:
                return Rcpt(cmd.Argument, directoryCurrent: false) ?? await RcptAfterCatchUpAsync(cmd.Argument, ct).ConfigureAwait(false);
            case SmtpVerb.Data:
                return await DataAsync(cmd.Argument, ct).ConfigureAwait(false);
            case SmtpVerb.Rset:
                if (cmd.Argument.Length > 0)
                {
                    return Replies.SyntaxError;
                }
                ResetTransaction();
                if (_state != SessionState.Connected)
                {
                    _state = SessionState.Ready;
                }
                return Replies.ResetOk;
            case SmtpVerb.Noop:
                return Replies.NoopOk;
            case SmtpVerb.Quit:
                await ReplyAsync(Replies.Bye).ConfigureAwait(false);
                _endReason = "quit";
                return null;
            case SmtpVerb.Vrfy:
                // RFC 5321 §3.5.3 and §7.3: never confirm or deny a mailbox.
                return cmd.Argument.Length == 0 ? Replies.SyntaxError : Replies.CannotVerify;
            case SmtpVerb.Expn:
                return Replies.ExpnDisabled;
            case SmtpVerb.Help:
                return new SmtpReply(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS; see RFC 5321");
            case SmtpVerb.StartTls:
                return await StartTlsAsync(cmd.Argument).ConfigureAwait(false);
            case SmtpVerb.Auth:
                return await AuthAsync(cmd.Argument, ct).ConfigureAwait(false);
            default:
                return Replies.CommandUnrecognized;
        }
    }

    private SmtpReply Hello(SmtpCommand cmd)
    {
        var name = cmd.Argument.Trim();
        if (name.Length == 0)
        {
            return new SmtpReply(501, "5.5.4", $"{cmd.VerbText.ToUpperInvariant()} requires a domain name or address literal");
        }
        if (!PathParser.IsDomainOrLiteral(name))
        {
            return new SmtpReply(501, "5.5.2", "Invalid HELO/EHLO name: a domain or an address literal is required");
        }
        ResetTransaction();
        _helo = name;
        _esmtp = cmd.Verb == SmtpVerb.Ehlo;
        _state = SessionState.Ready;
        var client = _remote.Address.IsIPv4MappedToIPv6 ? _remote.Address.MapToIPv4() : _remote.Address;
        if (!_esmtp)
        {
            return new SmtpReply(250, null, $"{Hostname}");
        }
        var lines = new List<string>
        {
            $"{Hostname} Hello [{client}]",
            "PIPELINING",
            $"SIZE {Limits.MaxMessageSize}",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        };
        // RFC 3461 on the submission listeners: NOTIFY, ORCPT, RET and ENVID are honoured there (failure and
        // success notices; passed on to a next hop that takes them). Not on the MX: see RcptNotify.
        if (_listener != ListenerKind.Mx)
        {
            lines.Add("DSN");
        }
        // RFC 3207 §4.2: STARTTLS is not offered again once TLS is up.
        if (!_tls && _server.Certificate is not null)
        {
            lines.Add("STARTTLS");
        }
        // RFC 4954 §4 and issue 3: AUTH is offered only on submission and only inside TLS.
        if (OffersAuth && _authenticatedUser is null)
        {
            lines.Add("AUTH PLAIN LOGIN SCRAM-SHA-256");
        }
        return new SmtpReply(250, null, lines);
    }

    /// <summary>MAIL once more after the directory has caught up (an address the user was given a moment ago).</summary>
    private async Task<SmtpReply> MailAfterCatchUpAsync(string argument, CancellationToken ct)
    {
        await _server.CatchUpDirectory(ct).ConfigureAwait(false);
        return Mail(argument, directoryCurrent: true)!;
    }

    /// <summary>
    /// The reply to MAIL, or null (only when <paramref name="directoryCurrent"/> is false) when a submission sender
    /// would be refused as not the user's own on the directory view in use: the caller asks again once it caught up.
    /// </summary>
    private SmtpReply? Mail(string argument, bool directoryCurrent)
    {
        var rest = SmtpCommand.AfterKeyword(argument, "FROM");
        if (rest is null)
        {
            return new SmtpReply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
        }
        var err = PathParser.TryParse(rest, allowNull: true, out var path, out var paramText);
        if (err != PathError.None)
        {
            return err == PathError.TooLong ? Replies.PathTooLong.WithText("Sender path too long (RFC 5321 §4.5.3.1)") : Replies.BadSenderSyntax;
        }
        if (!EsmtpParameters.TryParse(paramText, out var parameters))
        {
            return Replies.SyntaxError;
        }
        var paramReply = CheckMailParameters(parameters);
        if (paramReply is not null)
        {
            return paramReply;
        }
        if (path.Mailbox is { HasNonAscii: true } && !parameters.Has("SMTPUTF8"))
        {
            return Replies.SmtpUtf8Required;
        }
        var submissionRefusal = CheckSubmissionSender(path, directoryCurrent);
        if (ReferenceEquals(submissionRefusal, CatchUpFirst))
        {
            return null;
        }
        if (submissionRefusal is not null)
        {
            return submissionRefusal;
        }
        _sender = path;
        _mailParameters = parameters;
        _state = SessionState.HaveSender;
        return Replies.SenderOk;
    }

    private SmtpReply? CheckMailParameters(EsmtpParameters p)
    {
        foreach (var key in p.Keywords)
        {
            var value = p[key];
            switch (key.ToUpperInvariant())
            {
                case "SIZE":
                    // RFC 1870: SIZE=n declares the message size; refuse early when it is over the limit.
                    if (value is null || !long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size))
                    {
                        return Replies.SyntaxError;
                    }
                    if (size > Limits.MaxMessageSize)
                    {
                        return Replies.MessageTooBig;
                    }
                    break;
                case "BODY":
                    // RFC 6152: 7BIT or 8BITMIME. BINARYMIME needs CHUNKING, which is not offered.
                    if (value is null || !(value.Equals("7BIT", StringComparison.OrdinalIgnoreCase) || value.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase)))
                    {
                        return Replies.ParameterNotImplemented.WithText("BODY must be 7BIT or 8BITMIME");
                    }
                    break;
                case "SMTPUTF8":
                    if (value is not null)
                    {
                        return Replies.SyntaxError;
                    }
                    break;
                case "RET":
                    // RFC 3461 §4.3
                    if (value is null || !(value.Equals("FULL", StringComparison.OrdinalIgnoreCase) || value.Equals("HDRS", StringComparison.OrdinalIgnoreCase)))
                    {
                        return Replies.SyntaxError;
                    }
                    break;
                case "ENVID":
                    // RFC 3461 §4.4: xtext, at most 100 characters.
                    if (value is null || value.Length > 100 || EsmtpParameters.DecodeXtext(value) is null)
                    {
                        return Replies.SyntaxError;
                    }
                    break;
                case "AUTH":
                    // RFC 4954 §5: accepted and ignored unless the client itself authenticated.
                    break;
                default:
                    return Replies.ParameterNotImplemented;
            }
        }
        return null;
    }

    /// <summary>
    /// RCPT once more after the directory has caught up with every change committed so far: the first decision,
    /// on the snapshot in use, would have refused the recipient for what the directory lacked (an unknown user, a
    /// domain that is not local), and a user or domain added a moment ago must not get a 5xx.
    /// </summary>
    private async Task<SmtpReply> RcptAfterCatchUpAsync(string argument, CancellationToken ct)
    {
        await _server.CatchUpDirectory(ct).ConfigureAwait(false);
        return Rcpt(argument, directoryCurrent: true)!;
    }

    /// <summary>
    /// The reply to RCPT, or null (only when <paramref name="directoryCurrent"/> is false) when the recipient would
    /// be refused for what the snapshot in use lacks: nothing is counted or logged then, and the caller asks again
    /// once the directory has caught up.
    /// </summary>
    private SmtpReply? Rcpt(string argument, bool directoryCurrent)
    {
        var rest = SmtpCommand.AfterKeyword(argument, "TO");
        if (rest is null)
        {
            return new SmtpReply(501, "5.5.4", "Syntax: RCPT TO:<address>");
        }
        if (_acceptedRecipients >= Limits.MaxRecipients)
        {
            // RFC 5321 §4.5.3.1.10: 452 and the client sends the rest in another transaction.
            return Replies.TooManyRecipients;
        }
        if (_authenticatedUser is not null && !_server.SendingLimits.MayAddRecipient(_authenticatedUser, _acceptedRecipients))
        {
            LogOverLimit(_authenticatedUser, "recipients", _server.SendingLimits.RecipientsPerHour);
            return SendingLimitReached;
        }
        var (decision, path, paramText) = RecipientPolicy.DecideText(Client, rest, _server.Directory(), _server.Roles);
        if (decision.ForLackOfEntry && !directoryCurrent)
        {
            return null;
        }
        if (!decision.Accepted)
        {
            _refused++;
            LogRefusal(decision.Rule, decision.Reply, rest);
            return decision.Reply;
        }
        if (!EsmtpParameters.TryParse(paramText, out var parameters))
        {
            return Replies.SyntaxError;
        }
        foreach (var key in parameters.Keywords)
        {
            var value = parameters[key];
            var ok = key.ToUpperInvariant() switch
            {
                // RFC 3461 §4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY.
                "NOTIFY" => value is not null && ValidNotify(value),
                // RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters.
                "ORCPT" => value is not null && value.Length <= 500 && OriginalRecipient(value) is not null,
                _ => false,
            };
            if (!ok)
            {
                return key.ToUpperInvariant() is "NOTIFY" or "ORCPT" ? Replies.SyntaxError : Replies.ParameterNotImplemented;
            }
        }
        if (path!.Mailbox is { HasNonAscii: true } && !_mailParameters.Has("SMTPUTF8"))
        {
            return Replies.SmtpUtf8Required;
        }
        var deliverTo = decision.DeliverTo!;
        if (!_recipients.Exists(r => r.Recipient.Address == deliverTo))
        {
            var orcpt = parameters["ORCPT"] is { } o ? OriginalRecipient(o) : null;
            _recipients.Add((new QueuedRecipient(deliverTo, decision.Route, RcptNotify(parameters["NOTIFY"]), orcpt), path.Mailbox!.Address));
        }
        _acceptedRecipients++;
        _state = SessionState.HaveRecipient;
        return Replies.RecipientOk;
    }

    /// <summary>
    /// The NOTIFY kept for a recipient. Only a client that may send as its sender (an authenticated user, or a
    /// trusted network on a submission listener) gets success notices: on the MX anyone names any sender, and
    /// a "delivered" notice to a forged one would carry a stranger's headers there (backscatter; Postfix's
    /// DSN_README advises the same restriction). From such a client SUCCESS is dropped, and a list that held
    /// nothing else becomes NEVER: it asked for no failure notice either (RFC 3461 §4.1).
    /// </summary>
    private string? RcptNotify(string? notify)
    {
        if (notify is null || Client.MayRelay || !DeliveryStatusReport.NotifyLists(notify, "SUCCESS"))
        {
            return notify;
        }
        var rest = notify.Split(',', StringSplitOptions.TrimEntries).Where(i => !i.Equals("SUCCESS", StringComparison.OrdinalIgnoreCase)).ToList();
        return rest.Count == 0 ? "NEVER" : string.Join(',', rest);
    }

    /// <summary>
    /// ORCPT as it is kept and reported (RFC 3464 §2.3.1 Original-Recipient): the address type, ";", and the
    /// address decoded from xtext; null when it is not "atom;xtext".
    /// </summary>
    private static string? OriginalRecipient(string value)
    {
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        if (semicolon <= 0 || !value[..semicolon].All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            return null;
        }
        return EsmtpParameters.DecodeXtext(value[(semicolon + 1)..]) is { } address ? value[..semicolon] + ";" + address : null;
    }

    private static bool ValidNotify(string value)
    {
        var items = value.ToUpperInvariant().Split(',');
        if (items.Contains("NEVER"))
        {
            return items.Length == 1;
        }
        return items.All(i => i is "SUCCESS" or "FAILURE" or "DELAY") && items.Distinct().Count() == items.Length;
    }

    private async Task<SmtpReply?> DataAsync(string argument, CancellationToken ct)
    {
        if (argument.Length > 0)
        {
            return Replies.SyntaxError;
        }
        await ReplyAsync(Replies.StartMailInput).ConfigureAwait(false);

        var id = _server.Queue.NewId();
        var idText = QueueIdGenerator.Format(id);
        var now = DateTimeOffset.UtcNow;
        var buffer = new ArrayBufferWriter<byte>(8192);
        var received = ReceivedHeader.Build(_helo, _remote.Address, Hostname, ReceivedHeader.Protocol(_esmtp, _tls, _authenticatedUser is not null),
            idText, _recipients.Count == 1 ? _recipients[0].Original : null, now);
        buffer.Write(Encoding.ASCII.GetBytes(received));

        _timeout.CancelAfter(Limits.DataTimeout);
        var receivedLength = buffer.WrittenCount;
        BeginReadingData(buffer);
        var result = await _input.ReadDataAsync(buffer, Limits.MaxMessageSize + buffer.WrittenCount, MaxTextLine, ct, DataArrived,
            replaceStrayLineEndings: _listener != ListenerKind.Mx).ConfigureAwait(false);
        EndReadingData();
        if (!result.Completed)
        {
            _endReason = "disconnected-in-data";
            return null;
        }
        var sender = _sender?.Mailbox?.Address ?? "";
        var recipients = _recipients.Select(r => r.Recipient).ToList();
        // Taken before the reset below: the queued message keeps MAIL's ENVID and RET (RFC 3461 §4.3-§4.4).
        // ENVID (like ORCPT) is kept decoded: a DSN shows the text (RFC 3464 §2.2.1), and MailKit encodes it
        // again when it goes on to a next hop.
        var mailParameters = _mailParameters;
        _acceptedRecipientsInMessage = _acceptedRecipients;
        ResetTransaction();
        _state = SessionState.Ready;

        var problemReply = result.Problem switch
        {
            DataProblem.BareLineEnding => Replies.DataBareLineEnding,
            DataProblem.Nul => Replies.DataNul,
            DataProblem.LineTooLong => Replies.DataLineTooLong,
            DataProblem.TooBig => Replies.MessageTooBig,
            _ => null,
        };
        if (problemReply is not null)
        {
            _refused++;
            LogRefusal("data-" + result.Problem.ToString().ToLowerInvariant(), problemReply, $"from=<{sender}>");
            return problemReply;
        }
        // Without PIPELINING the client must wait for our reply to the final dot (catalog §2.3, the
        // smtpsmug "pipelining" test): a next transaction already waiting is refused and nothing is queued.
        if (!PipeliningNegotiated && _input.HasBufferedInput())
        {
            await ReplyAsync(Replies.ProtocolSynchronization).ConfigureAwait(false);
            LogRefusal("unauthorized-pipelining", Replies.ProtocolSynchronization, "input waiting after end of data");
            _endReason = "protocol-synchronization";
            return null;
        }

        // From here the work may block (Maildir writes, the queue commit) or compute for a while (MIME
        // preparation, DKIM): off the socket event thread it may be running on (Hosting.SocketEventThreads).
        await Task.Yield();

        var content = buffer.WrittenMemory;
        if (_listener != ListenerKind.Mx)
        {
            var (refusal, prepared) = PrepareSubmission(content, receivedLength, now);
            if (refusal is not null)
            {
                _refused++;
                LogRefusal("submission-from-header", refusal, $"user={_authenticatedUser ?? "-"}");
                return refusal;
            }
            content = prepared;
        }
        var message = new QueuedMessage(id, sender, recipients, content, now,
            mailParameters["ENVID"] is { } envid ? EsmtpParameters.DecodeXtext(envid) : null, mailParameters["RET"]?.ToUpperInvariant(), IsBounce: sender.Length == 0);
        var deliveredInline = await TryDeliverInlineAsync(message, idText, result.Size).ConfigureAwait(false);
        if (!deliveredInline)
        {
            try
            {
                await _server.Queue.EnqueueAsync(message, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A local fault is never a 5xx and never a lost message: the client keeps it and retries.
                _server.Log.LogError(e, "queue commit failed for message from {Client}", _remote);
                return Replies.TransientLocalError;
            }
        }
        _messages++;
        _server.Metrics.MessageAccepted(_listener, deliveredInline);
        if (_authenticatedUser is not null)
        {
            _server.SendingLimits.Record(_authenticatedUser, _acceptedRecipientsInMessage);
        }
        if (!deliveredInline)
        {
            LogQueued(idText, sender, recipients.Count, result.Size, _remote.ToString());
        }
        return Replies.Ok($"Ok: queued as {idText}");
    }

    /// <summary>
    /// A message for local mailboxes only goes straight into them before the 250 (<see cref="InlineLocalDelivery"/>),
    /// sparing the queue's write, read and delete. False: queue it. When only some copies landed the whole
    /// message is queued: its queued delivery uses the same Maildir names and skips the copies already there.
    /// </summary>
    private async Task<bool> TryDeliverInlineAsync(QueuedMessage message, string idText, long size)
    {
        // A sender who asked for a success notice (NOTIFY=SUCCESS) gets it from the queue's local delivery,
        // which commits the notice with the delivery it reports.
        if (_server.InlineDelivery is not { } inline || message.Recipients.Any(r => r.Route != RecipientRoute.Local) || SuccessReport.WantedByAny(message))
        {
            return false;
        }
        IReadOnlyList<MaildirResult> copies;
        try
        {
            copies = await inline.DeliverAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _server.Log.LogWarning(e, "delivery of {Id} before the reply failed; queueing it", idText);
            return false;
        }
        if (copies.FirstOrDefault(c => !c.Succeeded) is { } failed)
        {
            LogInlineFallback(idText, failed.Message.Mailbox, failed.Error?.Message ?? "unknown error");
            return false;
        }
        foreach (var copy in copies)
        {
            LogDeliveredInline(idText, message.Sender, copy.Message.Mailbox, size, _remote.ToString(), copy.Path ?? "");
        }
        _server.Metrics.Delivery(Telemetry.DeliveryAgentKind.Local, AttemptOutcome.Delivered, copies.Count);
        return true;
    }

    private async Task<SmtpReply?> StartTlsAsync(string argument)
    {
        if (argument.Length > 0)
        {
            return Replies.SyntaxError;
        }
        if (_tls)
        {
            return Replies.AlreadyTls;
        }
        if (_server.Certificate is null)
        {
            return Replies.TlsUnavailable;
        }
        await ReplyAsync(Replies.ReadyForTls).ConfigureAwait(false);
        return await HandshakeAsync().ConfigureAwait(false) ? NoReply : null;
    }

    /// <summary>Marker: the handler already answered (the 220 to STARTTLS); the loop sends nothing more.</summary>
    private static readonly SmtpReply NoReply = new(0, null, "");

    private async Task<bool> HandshakeAsync()
    {
        // CVE-2011-0411 / RFC 3207 §4.2: plaintext that arrived behind STARTTLS must not be executed inside
        // TLS. Drop it before the handshake reads from the socket, and log that it happened.
        var dropped = _input.DiscardBuffered();
        if (dropped > 0)
        {
            LogRefusal("starttls-injection", Replies.ReadyForTls, $"discarded {dropped} plaintext bytes pipelined after STARTTLS");
        }
        var ssl = new SslStream(_network, leaveInnerStreamOpen: true);
        // Its own 30 s bound, or less when the stress sweep ends the session's wait first.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            BeginWaitingForClient();
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _server.Certificate,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            }, cts.Token).ConfigureAwait(false);
            EndWaitingForClient();
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            _endReason = _stressExpired ? "stress-timeout" : "tls-handshake-failed";
            await ssl.DisposeAsync().ConfigureAwait(false);
            return false;
        }
        _stream = ssl;
        _input = new SmtpInput(ssl);
        _tls = true;
        // RFC 3207 §4.2: the session starts over; the client must EHLO again.
        ResetTransaction();
        _state = SessionState.Connected;
        _helo = null;
        _esmtp = false;
        return true;
    }

    private void ResetTransaction()
    {
        _sender = null;
        _mailParameters = EsmtpParameters.None;
        _recipients.Clear();
        _acceptedRecipients = 0;
    }

    private async Task ReplyAsync(SmtpReply reply)
    {
        if (reply.Code == 0)
        {
            return;
        }
        // A reply waits to be written only while the client's socket buffers are full: a client that sends and
        // never reads. It may wait as long as a command may (Postfix's smtpd_timeout bounds "sending a server
        // response and receiving a client request" alike), from now: a slow step before it (a delivery waiting
        // for the disk) must not cost the client the reply to a message already delivered.
        _timeout.CancelAfter(Limits.CommandTimeout);
        var bytes = Encoding.UTF8.GetBytes(reply.ToWire());
        await _stream.WriteAsync(bytes, _sessionEnds).ConfigureAwait(false);
        await _stream.FlushAsync(_sessionEnds).ConfigureAwait(false);
    }

    private async Task TryReplyAsync(SmtpReply reply)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var bytes = Encoding.UTF8.GetBytes(reply.ToWire());
            await _stream.WriteAsync(bytes, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or NotSupportedException)
        {
        }
    }

    private void LogRefusal(string rule, SmtpReply reply, string detail)
    {
        LogRefused(_remote.ToString(), rule, reply.ToString(), detail);
        _server.Metrics.Refused(_listener, rule);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "session client={Client} listener={Listener} helo={Helo} tls={Tls} user={User} messages={Messages} refused={Refused} end={End} ms={Ms}")]
    private partial void LogSession(string client, ListenerKind listener, string helo, bool tls, string user, int messages, int refused, string end, long ms);

    [LoggerMessage(Level = LogLevel.Information, Message = "refused client={Client} rule={Rule} reply=\"{Reply}\" detail=\"{Detail}\"")]
    private partial void LogRefused(string client, string rule, string reply, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "delivered id={Id} from=<{Sender}> to=<{To}> size={Size} client={Client} mailbox={Path}")]
    private partial void LogDeliveredInline(string id, string sender, string to, long size, string client, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "not delivered before the reply id={Id} to=<{To}> detail=\"{Detail}\"; queueing the message")]
    private partial void LogInlineFallback(string id, string to, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "queued id={Id} from=<{Sender}> rcpts={Count} size={Size} client={Client}")]
    private partial void LogQueued(string id, string sender, int count, long size, string client);

}
