using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Queue;

namespace Portcullis.Cli;

/// <summary>
/// `portcullis queue list|show|retry|delete`: what is waiting for delivery and why. These commands open
/// &lt;data_dir&gt;/queue/queue.db beside a running server (SQLite WAL); a retry is picked up by the server
/// within about a second.
/// </summary>
public static class QueueCommands
{
    public static Command Build()
    {
        var queue = new Command("queue", "Inspect and act on the mail queue: messages waiting for delivery, with each recipient's status and last error.");
        queue.Subcommands.Add(List());
        queue.Subcommands.Add(Show());
        queue.Subcommands.Add(Retry());
        queue.Subcommands.Add(Delete());
        return queue;
    }

    private static Command List()
    {
        var config = CommonOptions.ConfigOption();
        var json = new Option<bool>("--json") { Description = "One JSON array (id, received, age_seconds, sender, size, recipients with status, attempts, next_attempt, last_error)" };
        var cmd = new Command("list", "List queued messages, oldest first: id, age, sender, size, and every recipient with its status and last error.") { config, json };
        cmd.SetAction(r => Run(r.GetValue(config), admin =>
        {
            var messages = admin?.List() ?? [];
            var now = DateTimeOffset.UtcNow;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(messages.Select(m => ToJson(m, now)), JsonOptions));
                return 0;
            }
            foreach (var m in messages)
            {
                Console.WriteLine($"{QueueIdGenerator.Format(m.Id)}  {Age(now - m.ReceivedAt),6}  {m.Size,8}  <{m.Sender}>{(m.IsBounce ? "  (bounce)" : "")}");
                foreach (var rc in m.Recipients)
                {
                    var next = rc.Status == RecipientStatus.Pending ? $" next {(rc.NextAttempt <= now ? "now" : "in " + Age(rc.NextAttempt - now))}" : "";
                    Console.WriteLine($"    <{rc.Address}> {rc.Route.ToString().ToLowerInvariant()} {rc.Status.ToString().ToLowerInvariant()} attempts={rc.Attempts}{next}{(rc.LastError is null ? "" : "  " + rc.LastError)}");
                }
            }
            Console.WriteLine(messages.Count == 0 ? "queue is empty" : $"{messages.Count} message(s), {messages.Sum(m => m.Recipients.Count(x => x.Status == RecipientStatus.Pending))} recipient(s) pending");
            return 0;
        }));
        return cmd;
    }

    private static Command Show()
    {
        var config = CommonOptions.ConfigOption();
        var id = IdArgument();
        var cmd = new Command("show", "Show one queued message: envelope, every recipient's attempts and last error, and the message headers.") { config, id };
        cmd.SetAction(r => Run(r.GetValue(config), admin =>
        {
            if (!QueueIdGenerator.TryParse(r.GetValue(id)!, out var qid))
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.UsageError, $"'{r.GetValue(id)}' is not a queue id (hexadecimal, as `queue list` prints it)");
            }
            var m = admin?.Show(qid);
            if (m is null)
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.Failure, $"message {r.GetValue(id)} is not in the queue");
            }
            var now = DateTimeOffset.UtcNow;
            Console.WriteLine($"id:          {QueueIdGenerator.Format(m.Id)}");
            Console.WriteLine($"received:    {m.ReceivedAt:u} ({Age(now - m.ReceivedAt)} ago)");
            Console.WriteLine($"sender:      <{m.Sender}>{(m.IsBounce ? " (a bounce: it is never bounced itself)" : "")}");
            Console.WriteLine($"size:        {m.Size} bytes");
            if (m.EnvelopeId is not null || m.Ret is not null)
            {
                Console.WriteLine($"dsn:         envid={m.EnvelopeId ?? "-"} ret={m.Ret ?? "-"}");
            }
            foreach (var rc in m.Recipients)
            {
                Console.WriteLine($"recipient:   <{rc.Address}> route={rc.Route.ToString().ToLowerInvariant()} status={rc.Status.ToString().ToLowerInvariant()} attempts={rc.Attempts} next_attempt={rc.NextAttempt:u}");
                if (rc.LastError is not null)
                {
                    Console.WriteLine($"  last error: {rc.LastError}");
                }
            }
            Console.WriteLine();
            Console.Write(Encoding.UTF8.GetString(Portcullis.Server.Remote.BounceReport.HeaderBytes(m.Content!)).Replace("\r\n", "\n", StringComparison.Ordinal));
            return 0;
        }));
        return cmd;
    }

    private static Command Retry()
    {
        var config = CommonOptions.ConfigOption();
        var id = new Argument<string?>("ID") { Description = "The queue id (as `queue list` prints it)", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every pending recipient of every message" };
        var cmd = new Command("retry", "Make pending recipients due now; the running server tries them within a second or two.") { config, id, all };
        cmd.SetAction(r => Run(r.GetValue(config), admin =>
        {
            long? qid = null;
            if (r.GetValue(all) == (r.GetValue(id) is not null))
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.UsageError, "give either a queue id or --all");
            }
            if (r.GetValue(id) is { } text)
            {
                if (!QueueIdGenerator.TryParse(text, out var parsed))
                {
                    return DirectoryCommandRunner.Fail(DirectoryCommandRunner.UsageError, $"'{text}' is not a queue id");
                }
                qid = parsed;
            }
            var count = admin?.RetryNow(qid) ?? 0;
            if (qid is not null && count == 0)
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.Failure, $"message {r.GetValue(id)} has no pending recipient in the queue");
            }
            Console.WriteLine($"{count} recipient(s) due now");
            return 0;
        }));
        return cmd;
    }

    private static Command Delete()
    {
        var config = CommonOptions.ConfigOption();
        var id = IdArgument();
        var cmd = new Command("delete", "Remove a message from the queue without delivering it and without a bounce.") { config, id };
        cmd.SetAction(r => Run(r.GetValue(config), admin =>
        {
            if (!QueueIdGenerator.TryParse(r.GetValue(id)!, out var qid))
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.UsageError, $"'{r.GetValue(id)}' is not a queue id");
            }
            if (admin is null || !admin.Delete(qid))
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.Failure, $"message {r.GetValue(id)} is not in the queue");
            }
            Console.WriteLine($"message {QueueIdGenerator.Format(qid)} deleted");
            return 0;
        }));
        return cmd;
    }

    private static Argument<string> IdArgument() => new("ID") { Description = "The queue id (hexadecimal, as `queue list` prints it)" };

    private static int Run(string? configPath, Func<QueueAdmin?, int> action)
    {
        var settings = CommonOptions.LoadSettings(configPath);
        if (settings is null)
        {
            return CommonOptions.ConfigErrorExitCode;
        }
        try
        {
            using var admin = QueueAdmin.Open(settings.Storage.DataDir);
            return action(admin);
        }
        catch (SqliteException e)
        {
            return DirectoryCommandRunner.Fail(DirectoryCommandRunner.Failure, $"queue database {QueueAdmin.DatabasePath(settings.Storage.DataDir)}: {e.Message}");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static Dictionary<string, object?> ToJson(QueuedMessageState m, DateTimeOffset now) => new()
    {
        ["id"] = QueueIdGenerator.Format(m.Id),
        ["received"] = m.ReceivedAt.ToString("o", CultureInfo.InvariantCulture),
        ["age_seconds"] = (long)(now - m.ReceivedAt).TotalSeconds,
        ["sender"] = m.Sender,
        ["is_bounce"] = m.IsBounce,
        ["size"] = m.Size,
        ["recipients"] = m.Recipients.Select(rc => new Dictionary<string, object?>
        {
            ["address"] = rc.Address,
            ["route"] = rc.Route.ToString().ToLowerInvariant(),
            ["status"] = rc.Status.ToString().ToLowerInvariant(),
            ["attempts"] = rc.Attempts,
            ["next_attempt"] = rc.NextAttempt.ToString("o", CultureInfo.InvariantCulture),
            ["last_error"] = rc.LastError,
        }).ToList(),
    };

    private static string Age(TimeSpan t) => t.TotalSeconds < 0 ? "0s"
        : t.TotalMinutes < 1 ? $"{(int)t.TotalSeconds}s"
        : t.TotalHours < 1 ? $"{(int)t.TotalMinutes}m"
        : t.TotalDays < 1 ? $"{(int)t.TotalHours}h"
        : $"{(int)t.TotalDays}d";
}
