using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// A client that sends commands but never reads the replies: once the socket buffers are full the server's
/// reply cannot be written. The session must still end within the command timeout (as Postfix's
/// smtpd_timeout bounds "sending a server response and receiving a client request"), or such clients
/// would hold connection slots for ever.
/// </summary>
public sealed class UnreadRepliesTests
{
    [Fact]
    public async Task A_client_that_never_reads_its_replies_is_dropped_after_the_command_timeout()
    {
        await using var server = await ServerInstance.StartAsync("[limits]\ncommand_timeout = \"2s\"\n");
        await using (await StalledClient.StartAsync(server.Host, server.MxPort, "stalled.example.net"))
        {
            Assert.True(await server.WaitForLogAsync("helo=stalled.example.net", TimeSpan.FromSeconds(20)),
                "the session never ended:\n" + server.ServerLog);
        }
        var line = server.ServerLog.Split('\n').Single(l => l.Contains("helo=stalled.example.net", StringComparison.Ordinal));
        Assert.Contains("end=timeout", line, StringComparison.Ordinal);

        // The server is still there for everybody else.
        await using var next = await server.ConnectAsync();
        Assert.Equal(250, (await next.CommandAsync("EHLO next.example.net")).Code);
    }
}
