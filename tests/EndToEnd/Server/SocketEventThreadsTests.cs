using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>
/// serve runs socket continuations on .NET's event threads and asks for one such thread per two cores
/// (Hosting.SocketEventThreads; docs/delivery.md, "Threads"); an administrator's own setting wins. Counted in
/// the running server's /proc/PID/task, where .NET names those threads ".NET Sockets".
/// </summary>
public sealed class SocketEventThreadsTests
{
    [Fact]
    public async Task Serve_runs_one_socket_event_thread_per_two_cores()
    {
        await using var server = await ServerInstance.StartAsync(populate: false);
        // .NET's own default with inline continuations is one per core: on two cores or more the counts differ.
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), SocketEventThreads(server.Pid));
    }

    [Fact]
    public async Task An_event_thread_count_the_administrator_set_is_kept()
    {
        await using var server = await ServerInstance.StartAsync(populate: false, env: new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = "3" });
        Assert.Equal(3, SocketEventThreads(server.Pid));
    }

    private static int SocketEventThreads(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == ".NET Sockets");
}
