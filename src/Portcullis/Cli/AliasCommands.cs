using System.CommandLine;

namespace Portcullis.Cli;

/// <summary>`portcullis alias add|list|remove`: extra local addresses that deliver to a user's mailbox.</summary>
public static class AliasCommands
{
    public static Command Build()
    {
        var alias = new Command("alias", "Manage aliases: local addresses that deliver to a user's mailbox (the user may also send as them).");
        alias.Subcommands.Add(Add());
        alias.Subcommands.Add(List());
        alias.Subcommands.Add(Remove());
        return alias;
    }

    private static Command Add()
    {
        var config = CommonOptions.ConfigOption();
        var alias = new Argument<string>("ALIAS") { Description = "The alias address, in a local domain, e.g. sales@example.test" };
        var target = new Argument<string>("TARGET") { Description = "A local user (or an alias of one), e.g. alice@example.test" };
        var cmd = new Command("add", "Add an alias.") { config, alias, target };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var added = await store.AddAliasAsync(r.GetValue(alias)!, r.GetValue(target)!, ct).ConfigureAwait(false);
            Console.WriteLine($"alias {added.Address} -> {added.Target} added");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command List()
    {
        var config = CommonOptions.ConfigOption();
        var domain = new Argument<string?>("DOMAIN") { Description = "Only the aliases of this domain", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("list", "List aliases, one per line: ALIAS TARGET.") { config, domain };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            foreach (var a in await store.ListAliasesAsync(r.GetValue(domain), ct).ConfigureAwait(false))
            {
                Console.WriteLine($"{a.Address} {a.Target}");
            }
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command Remove()
    {
        var config = CommonOptions.ConfigOption();
        var alias = new Argument<string>("ALIAS") { Description = "The alias to remove" };
        var force = new Option<bool>("--force") { Description = "Also remove the aliases that point through this one" };
        var cmd = new Command("remove", "Remove an alias. Refused while other aliases point through it, unless --force.") { config, alias, force };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var removal = await store.RemoveAliasAsync(r.GetValue(alias)!, r.GetValue(force), ct).ConfigureAwait(false);
            var others = removal.RemovedAliases.Where(a => a != removal.Removed).ToList();
            var extra = others.Count == 0 ? "" : $" with {others.Count} alias(es) through it ({string.Join(", ", others)})";
            Console.WriteLine($"alias {removal.Removed} removed{extra}");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }
}
