using System.CommandLine;

namespace Portcullis.Cli;

/// <summary>`portcullis domain add|list|remove`: the local domains, whose mail this server accepts (and no other).</summary>
public static class DomainCommands
{
    public static Command Build()
    {
        var domain = new Command("domain", "Manage local domains: mail for these domains is accepted for their users and aliases; mail for any other domain is refused (no relaying).");
        domain.Subcommands.Add(Add());
        domain.Subcommands.Add(List());
        domain.Subcommands.Add(Remove());
        return domain;
    }

    private static Command Add()
    {
        var config = CommonOptions.ConfigOption();
        var name = new Argument<string>("DOMAIN") { Description = "Domain name, e.g. example.test (stored lower-case)" };
        var cmd = new Command("add", "Add a local domain.") { config, name };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var added = await store.AddDomainAsync(r.GetValue(name)!, ct).ConfigureAwait(false);
            Console.WriteLine($"domain {added} added");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command List()
    {
        var config = CommonOptions.ConfigOption();
        var cmd = new Command("list", "List the local domains, one per line.") { config };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            foreach (var d in await store.ListDomainsAsync(ct).ConfigureAwait(false))
            {
                Console.WriteLine(d.Name);
            }
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command Remove()
    {
        var config = CommonOptions.ConfigOption();
        var name = new Argument<string>("DOMAIN") { Description = "The local domain to remove" };
        var force = new Option<bool>("--force") { Description = "Also remove the domain's users and aliases (their Maildir files are kept)" };
        var cmd = new Command("remove", "Remove a local domain. Refused while it has users or aliases, unless --force.") { config, name, force };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var removal = await store.RemoveDomainAsync(r.GetValue(name)!, r.GetValue(force), ct).ConfigureAwait(false);
            var extra = removal.RemovedUsers.Count + removal.RemovedAliases.Count == 0
                ? ""
                : $" with {removal.RemovedUsers.Count} user(s) and {removal.RemovedAliases.Count} alias(es); Maildir files are kept";
            Console.WriteLine($"domain {removal.Removed} removed{extra}");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }
}
