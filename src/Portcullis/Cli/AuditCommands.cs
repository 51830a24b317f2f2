using System.CommandLine;

namespace Portcullis.Cli;

/// <summary>`portcullis audit ...`: the auditor's commands. Each sub-command lives in its own file.</summary>
public static class AuditCommands
{
    public static Command Build()
    {
        var audit = new Command("audit", "Audit mail servers and proxies: are they open relays or open proxies? Only audit hosts you are authorised to test.");
        audit.Subcommands.Add(AuditSmtpCommand.Build());
        audit.Subcommands.Add(AuditProxyCommand.Build());
        return audit;
    }
}
