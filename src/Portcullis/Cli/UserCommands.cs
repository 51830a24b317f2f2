using System.CommandLine;
using Portcullis.Server.Directory;

namespace Portcullis.Cli;

/// <summary>`portcullis user add|list|remove|password`: mailboxes and their SCRAM-SHA-256 credentials.</summary>
public static class UserCommands
{
    public static Command Build()
    {
        var user = new Command("user", "Manage users: local mailboxes that receive mail and (later) log in to send it. Passwords are kept only as SCRAM-SHA-256 credentials.");
        user.Subcommands.Add(Add());
        user.Subcommands.Add(List());
        user.Subcommands.Add(Remove());
        user.Subcommands.Add(Password());
        return user;
    }

    private static Option<bool> PasswordStdinOption() => new("--password-stdin")
    {
        Description = "Read the password as one line from standard input (its newline is stripped). Without it the password is prompted for twice, without echo.",
    };

    private static Command Add()
    {
        var config = CommonOptions.ConfigOption();
        var address = new Argument<string>("ADDRESS") { Description = "The user's address, e.g. alice@example.test (its domain must be a local domain)" };
        var stdin = PasswordStdinOption();
        var cmd = new Command("add", "Add a user.") { config, address, stdin };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            // Check what can be checked before asking for a password the administrator would type for nothing.
            // The store checks again in its transaction.
            var normalized = DirectoryNames.NormalizeAddress(r.GetValue(address)!);
            var snapshot = await store.LoadSnapshotAsync(ct).ConfigureAwait(false);
            var domain = DirectoryNames.DomainOf(normalized);
            if (!snapshot.IsLocalDomain(domain))
            {
                throw new DirectoryException(DirectoryErrorKind.Invalid, $"user {normalized}: {domain} is not a local domain (add the domain first)");
            }
            if (snapshot.IsUser(normalized))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"user {normalized} already exists");
            }
            if (snapshot.Aliases.ContainsKey(normalized))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"{normalized} is already an alias; remove the alias first");
            }
            var credential = ScramCredential.Create(PasswordInput.Read(r.GetValue(stdin)));
            var added = await store.AddUserAsync(normalized, credential, ct).ConfigureAwait(false);
            Console.WriteLine($"user {added} added");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command List()
    {
        var config = CommonOptions.ConfigOption();
        var domain = new Argument<string?>("DOMAIN") { Description = "Only the users of this domain", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("list", "List users, one address per line.") { config, domain };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            foreach (var u in await store.ListUsersAsync(r.GetValue(domain), ct).ConfigureAwait(false))
            {
                Console.WriteLine(u.Address);
            }
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command Remove()
    {
        var config = CommonOptions.ConfigOption();
        var address = new Argument<string>("ADDRESS") { Description = "The user to remove" };
        var force = new Option<bool>("--force") { Description = "Also remove the aliases that deliver to this user" };
        var cmd = new Command("remove", "Remove a user (the Maildir files are kept). Refused while aliases deliver to it, unless --force.") { config, address, force };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var removal = await store.RemoveUserAsync(r.GetValue(address)!, r.GetValue(force), ct).ConfigureAwait(false);
            var extra = removal.RemovedAliases.Count == 0 ? "" : $" with {removal.RemovedAliases.Count} alias(es) ({string.Join(", ", removal.RemovedAliases)})";
            Console.WriteLine($"user {removal.Removed} removed{extra}; Maildir files are kept");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }

    private static Command Password()
    {
        var config = CommonOptions.ConfigOption();
        var address = new Argument<string>("ADDRESS") { Description = "The user whose password changes" };
        var stdin = PasswordStdinOption();
        var cmd = new Command("password", "Set a new password for a user.") { config, address, stdin };
        cmd.SetAction((r, ct) => DirectoryCommandRunner.RunAsync(r.GetValue(config), async store =>
        {
            var normalized = DirectoryNames.NormalizeAddress(r.GetValue(address)!);
            if (await store.GetCredentialAsync(normalized, ct).ConfigureAwait(false) is null)
            {
                throw new DirectoryException(DirectoryErrorKind.NotFound, $"user {normalized} does not exist");
            }
            await store.SetCredentialAsync(normalized, ScramCredential.Create(PasswordInput.Read(r.GetValue(stdin))), ct).ConfigureAwait(false);
            Console.WriteLine($"password of {normalized} changed");
            return DirectoryCommandRunner.Ok;
        }, ct));
        return cmd;
    }
}
