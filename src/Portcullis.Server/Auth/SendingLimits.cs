using System.Collections.Concurrent;

namespace Portcullis.Server.Auth;

/// <summary>
/// Per-account sending limits over a sliding hour: messages and recipients. A stolen password must not
/// turn the server into a spam cannon (issue 3); over the limit the client gets 450 4.7.1 and the log
/// names the account.
/// </summary>
public sealed class SendingLimits(int messagesPerHour, int recipientsPerHour, TimeProvider? clock = null)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Usage> _usage = new(StringComparer.OrdinalIgnoreCase);

    public int MessagesPerHour => messagesPerHour;
    public int RecipientsPerHour => recipientsPerHour;

    /// <summary>May the account start another message?</summary>
    public bool MayStartMessage(string account) => Get(account).Count(_clock.GetUtcNow(), recipients: false) < messagesPerHour;

    /// <summary>May the account add <paramref name="pending"/>+1 recipients to what it sent this hour?</summary>
    public bool MayAddRecipient(string account, int pending) => Get(account).Count(_clock.GetUtcNow(), recipients: true) + pending < recipientsPerHour;

    /// <summary>Counts an accepted message and its recipients.</summary>
    public void Record(string account, int recipients) => Get(account).Add(_clock.GetUtcNow(), recipients);

    private Usage Get(string account) => _usage.GetOrAdd(account, _ => new Usage());

    private sealed class Usage
    {
        private readonly Queue<(DateTimeOffset At, int Recipients)> _sent = new();

        public int Count(DateTimeOffset now, bool recipients)
        {
            lock (_sent)
            {
                while (_sent.Count > 0 && _sent.Peek().At < now - Hour)
                {
                    _sent.Dequeue();
                }
                return recipients ? _sent.Sum(s => s.Recipients) : _sent.Count;
            }
        }

        public void Add(DateTimeOffset now, int recipients)
        {
            lock (_sent)
            {
                _sent.Enqueue((now, recipients));
            }
        }
    }
}
