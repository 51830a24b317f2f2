using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;
using Portcullis.Server.Directory;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Smtp;

/// <summary>What every session of a running server shares.</summary>
public sealed class ServerContext(PortcullisSettings settings, Func<DirectorySnapshot> directory, IMessageQueue queue, X509Certificate2? certificate, ILogger log)
{
    public PortcullisSettings Settings { get; } = settings;
    /// <summary>The current directory snapshot (replaced when the directory changes).</summary>
    public Func<DirectorySnapshot> Directory { get; } = directory;
    /// <summary>
    /// Returns once <see cref="Directory"/> holds every change committed before the call (see
    /// <see cref="DirectorySnapshotSource.CatchUpAsync"/>); asked before a refusal that depends on what the directory lacks.
    /// </summary>
    public Func<CancellationToken, Task> CatchUpDirectory { get; init; } = _ => Task.CompletedTask;
    /// <summary>The role accounts' settings the recipient decision needs (postmaster mailbox, host name).</summary>
    public Policy.RoleAccounts Roles { get; } = new(settings.Server.Postmaster, settings.Server.Hostname);
    public IMessageQueue Queue { get; } = queue;
    public X509Certificate2? Certificate { get; } = certificate;
    public ILogger Log { get; } = log;
    /// <summary>Signalled on shutdown: sessions answer 421 and close.</summary>
    public CancellationToken Stopping { get; init; }
    /// <summary>A user's SCRAM credential for AUTH, or null for no such user.</summary>
    public Func<string, CancellationToken, Task<ScramCredential?>> FindCredential { get; init; } = (_, _) => Task.FromResult<ScramCredential?>(null);
    public Auth.AuthThrottle Throttle { get; init; } = new();
    public Auth.SendingLimits SendingLimits { get; init; } = new(settings.Submission.MessagesPerHour, settings.Submission.RecipientsPerHour);
    /// <summary>
    /// Signs a submitted message (DKIM) for the From: domain when a key exists: content in, signed content
    /// out (the same bytes when there is no key). Null when signing is not available.
    /// </summary>
    public Func<ReadOnlyMemory<byte>, string, ReadOnlyMemory<byte>>? SignOutbound { get; init; }
    /// <summary>
    /// Delivers a message for local mailboxes only before the 250 (see <see cref="Delivery.InlineLocalDelivery"/>);
    /// null: every message goes through the queue.
    /// </summary>
    public Delivery.InlineLocalDelivery? InlineDelivery { get; init; }
    /// <summary>Counters for monitoring (exported when listeners.metrics is set).</summary>
    public Telemetry.ServerMetrics Metrics { get; init; } = new();
}
