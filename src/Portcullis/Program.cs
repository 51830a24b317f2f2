using System.CommandLine;
using Portcullis.Cli;

namespace Portcullis;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Portcullis: a mail server that cannot be an open relay, and an auditor that finds open relays and open proxies.");
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(AuditCommands.Build());
        root.Subcommands.Add(ScanCommand.Build());
        root.Subcommands.Add(DomainCommands.Build());
        root.Subcommands.Add(UserCommands.Build());
        root.Subcommands.Add(AliasCommands.Build());
        root.Subcommands.Add(QueueCommands.Build());
        root.Subcommands.Add(DkimCommands.Build());
        root.Subcommands.Add(CheckCommand.Build());
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // A usage error exits 2 (System.CommandLine's own handler would exit 1, the code for a failure).
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine("portcullis: " + error.Message);
            }
            Console.Error.WriteLine("Try --help.");
            return 2;
        }
        // serve handles SIGTERM and Ctrl-C itself and bounds its own stop; every other command gets
        // System.CommandLine's handling: its token is cancelled, and the process is ended if the command has not
        // returned 10 seconds later. (Its default, two seconds, cut scans short on a busy machine before they
        // had written their last checkpoint and the "--resume FILE" line.)
        var invocation = new InvocationConfiguration
        {
            ProcessTerminationTimeout = parsed.CommandResult.Command.Name == ServeCommand.Name ? null : TimeSpan.FromSeconds(10),
        };
        return await parsed.InvokeAsync(invocation).ConfigureAwait(false);
    }
}
