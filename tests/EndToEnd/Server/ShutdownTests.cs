using System.Diagnostics;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>A graceful stop (SIGTERM): open sessions are told why they end, and the server does not linger.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Sigterm_answers_every_open_session_421_4_3_2_and_the_server_exits_once_they_have_ended()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var idle = await server.ConnectAsync();
        Assert.Equal(250, (await idle.CommandAsync("EHLO idle.example.net")).Code);
        await using var midTransaction = await server.ConnectAsync();
        Assert.Equal(250, (await midTransaction.CommandAsync("EHLO busy.example.net")).Code);
        Assert.Equal(250, (await midTransaction.CommandAsync("MAIL FROM:<sender@busy.example.net>")).Code);
        Assert.Equal(250, (await midTransaction.CommandAsync("RCPT TO:<alice@example.test>")).Code);
        // Its 421 cannot be written: the session gives up on it after 2 s, and the listener (which waits up to
        // 5 s for its sessions) must notice the last session's end at once.
        await using var stalled = await StalledClient.StartAsync(server.Host, server.MxPort, "stalled.example.net");
        await Task.Delay(500); // the buffers fill

        var clock = Stopwatch.StartNew();
        var exit = server.TerminateAsync(TimeSpan.FromSeconds(30));
        foreach (var client in new[] { idle, midTransaction })
        {
            var reply = await client.ReadAsync();
            Assert.Equal("421 4.3.2", $"{reply.Code} {reply.Enhanced}");
        }
        Assert.Equal(0, await exit);
        // The listener waits up to 5 s for its sessions; once the last one has ended it must not wait on.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"exited {clock.Elapsed} after SIGTERM");
        foreach (var helo in new[] { "idle.example.net", "busy.example.net", "stalled.example.net" })
        {
            var line = server.ServerLog.Split('\n').SingleOrDefault(l => l.Contains(" session ", StringComparison.Ordinal) && l.Contains("helo=" + helo, StringComparison.Ordinal));
            Assert.True(line is not null && line.Contains("end=shutdown", StringComparison.Ordinal), $"{helo}: {line}\n{server.ServerLog}");
        }
        Assert.Empty(server.Messages("alice"));
    }

    [Fact]
    public async Task Sighup_keeps_the_server_and_its_sessions_running_and_says_whether_the_file_would_start()
    {
        await using var server = await ServerInstance.StartAsync();
        await using var open = await server.ConnectAsync();
        Assert.Equal(250, (await open.CommandAsync("EHLO open.example.net")).Code);

        server.Signal("HUP");
        Assert.True(await server.WaitForLogAsync("SIGHUP: the configuration (" + server.ConfigFile + ") is read at start only and reads without error now"), server.ServerLog);
        var original = await File.ReadAllTextAsync(server.ConfigFile);
        await File.AppendAllTextAsync(server.ConfigFile, "[limits]\nmax_errors = 0\n");
        server.Signal("HUP");
        Assert.True(await server.WaitForLogAsync("SIGHUP: the configuration (" + server.ConfigFile + ") has an error, a restart would fail: limits.max_errors: "), server.ServerLog);
        await File.WriteAllTextAsync(server.ConfigFile, original);

        // The session opened before the signals goes on, and new ones are served.
        Assert.Equal(250, (await open.SendMessageAsync("a@open.example.net", ["alice@example.test"], "Subject: after HUP\r\n\r\nx\r\n")).Code);
        await using var fresh = await server.ConnectAsync();
        Assert.Equal(250, (await fresh.CommandAsync("EHLO fresh.example.net")).Code);
        Assert.Single(server.Messages("alice"));
    }
}
