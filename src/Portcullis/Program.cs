using System.CommandLine;
using Portcullis.Cli;

namespace Portcullis;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Portcullis: a mail server that cannot be an open relay, and an auditor that finds open relays and open proxies.");
        root.Subcommands.Add(AuditCommands.Build());
        root.Subcommands.Add(ScanCommand.Build());
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync().ConfigureAwait(false);
    }
}
