using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// Mail for local mailboxes is delivered before the 250 (no queue round trip); when a mailbox cannot be
/// written the message goes through the queue instead, and no mailbox gets a second copy.
/// </summary>
public sealed class InlineDeliveryTests
{
    [Fact]
    public async Task Local_mail_is_in_the_mailbox_when_250_arrives_and_never_enters_the_queue()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO inline.example.net");
        var tag = "inline " + Guid.NewGuid();

        var reply = await c.SendMessageAsync("someone@remote.example", ["alice@example.test", "bob@example.test"], $"Subject: {tag}\r\n\r\n{tag}\r\n");

        Assert.Equal(250, reply.Code);
        // No waiting: the copies are durable in new/ before the reply.
        Assert.Contains(server.Messages("alice"), f => File.ReadAllText(f).Contains(tag, StringComparison.Ordinal));
        Assert.Contains(server.Messages("bob"), f => File.ReadAllText(f).Contains(tag, StringComparison.Ordinal));
        Assert.Empty(await QueuedAsync(server));
        Assert.True(await server.WaitForLogAsync("delivered id="), server.ServerLog);
    }

    [Fact]
    public async Task A_mailbox_that_cannot_be_written_gets_its_copy_through_the_queue_and_no_one_gets_two()
    {
        await using var server = await ServerInstance.StartAsync();
        // bob's mailbox path is blocked by a regular file where his directory should be.
        var blocked = Path.Combine(server.DataDir, "mail", "example.test", "bob");
        Directory.CreateDirectory(Path.GetDirectoryName(blocked)!);
        await File.WriteAllTextAsync(blocked, "not a directory");
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO inline.example.net");
        var tag = "fallback " + Guid.NewGuid();

        var reply = await c.SendMessageAsync("someone@remote.example", ["alice@example.test", "bob@example.test"], $"Subject: {tag}\r\n\r\n{tag}\r\n");

        Assert.Equal(250, reply.Code);
        Assert.True(await server.WaitForLogAsync("not delivered before the reply"), server.ServerLog);
        var queued = Assert.Single(await QueuedAsync(server));
        var id = queued.GetProperty("id").GetString()!;
        // Wait for the queue's own first attempt: it meets the same fault and defers bob for a minute.
        var tried = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(await QueuedAsync(server)).Any(m => m.GetProperty("recipients").EnumerateArray().Any(r => r.GetProperty("attempts").GetInt32() >= 1))
            && DateTime.UtcNow < tried)
        {
            await Task.Delay(200);
        }

        // The local fault clears; the queued delivery (made due now) brings bob his copy and finds alice's.
        File.Delete(blocked);
        var (code, _, err) = await PortcullisProcess.RunAsync(["queue", "retry", id, "--config", server.ConfigFile]);
        Assert.True(code == 0, err);
        var bob = await server.WaitForMessagesAsync("bob", 1);
        Assert.Contains(bob, f => File.ReadAllText(f).Contains(tag, StringComparison.Ordinal));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await QueuedAsync(server)).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Empty(await QueuedAsync(server));
        Assert.Single(server.Messages("alice"), f => File.ReadAllText(f).Contains(tag, StringComparison.Ordinal));
        Assert.Single(server.Messages("bob"), f => File.ReadAllText(f).Contains(tag, StringComparison.Ordinal));
    }

    private static async Task<JsonElement[]> QueuedAsync(ServerInstance server)
    {
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["queue", "list", "--json", "--config", server.ConfigFile]);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
    }
}
