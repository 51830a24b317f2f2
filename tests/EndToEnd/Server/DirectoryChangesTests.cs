using System.Text.RegularExpressions;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// The running server learns of `portcullis user add` and `domain add` from another process by polling (once a
/// second), and before it refuses a recipient for what its directory lacks it checks for changes it has not seen:
/// a mailbox added a moment ago is never refused with a 5xx (which a sender would take as final), nor, on
/// submission, an address just given to the authenticated user.
/// </summary>
public sealed class DirectoryChangesTests
{
    [Theory]
    [InlineData(null, "carol@example.test")] // a new user of a local domain: 550 5.1.1 from a stale view
    [InlineData("fresh.test", "dan@fresh.test")] // a new domain: 550 5.7.1 relay denied from a stale view
    public async Task A_mailbox_added_while_a_session_is_open_is_accepted_at_once_not_refused_5xx(string? newDomain, string user)
    {
        await using var server = await ServerInstance.StartAsync();
        await using var wire = await OpenTransactionAsync(server);

        if (newDomain is not null)
        {
            await server.CliAsync("domain", "add", newDomain);
        }
        await server.CliAsync("user", "add", user, "--password-stdin", stdin: "some-password\n");
        // Sent as soon as the command has exited: long before the server's next poll, most of the time.
        var reply = await wire.CommandAsync($"RCPT TO:<{user}>");

        Assert.Equal(250, reply.Code);
    }

    [Fact]
    public async Task An_unknown_user_is_still_refused_550_5_1_1_and_logged_once()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var wire = await OpenTransactionAsync(server);

        var unknown = await wire.CommandAsync("RCPT TO:<nobody@example.test>");
        var foreign = await wire.CommandAsync("RCPT TO:<victim@elsewhere.test>");
        await wire.CommandAsync("QUIT");

        Assert.Equal((550, "5.1.1"), (unknown.Code, unknown.Enhanced));
        Assert.Equal((550, "5.7.1"), (foreign.Code, foreign.Enhanced));
        Assert.True(await server.WaitForLogAsync("rule=relay-denied"), server.ServerLog);
        Assert.Single(Regex.Matches(server.ServerLog, "rule=unknown-user .*nobody@example.test"));
        Assert.Single(Regex.Matches(server.ServerLog, "rule=relay-denied .*victim@elsewhere.test"));
    }

    [Fact]
    public async Task A_sender_address_given_to_a_user_a_moment_ago_may_be_used_on_submission_at_once()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var c = await SmtpWire.ConnectAsync(server.Host, server.SubmissionsPort, readGreeting: false);
        await c.StartTlsHandshakeAsync("mx.example.test");
        Assert.Equal(220, (await c.ReadAsync()).Code);
        await c.CommandAsync("EHLO client.test");
        Assert.Equal(235, (await c.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("\0bob@example.test\0bob-password"u8.ToArray()))).Code);
        Assert.Equal(553, (await c.CommandAsync("MAIL FROM:<robert@example.test>")).Code); // not his yet

        await server.CliAsync("alias", "add", "robert@example.test", "bob@example.test");
        var reply = await c.CommandAsync("MAIL FROM:<robert@example.test>");

        Assert.Equal(250, reply.Code);
    }

    /// <summary>A session on the server's MX listener, after EHLO and a MAIL that was accepted.</summary>
    private static async Task<SmtpWire> OpenTransactionAsync(ServerInstance server)
    {
        var wire = await SmtpWire.ConnectAsync(server.Host, server.MxPort);
        await wire.CommandAsync("EHLO client.test");
        Assert.Equal(250, (await wire.CommandAsync("MAIL FROM:<someone@remote.test>")).Code);
        return wire;
    }
}
