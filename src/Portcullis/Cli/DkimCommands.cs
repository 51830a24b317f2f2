using System.CommandLine;
using MimeKit.Cryptography;
using Portcullis.Server.Dkim;

namespace Portcullis.Cli;

/// <summary>`portcullis dkim generate|list`: the keys the server signs outgoing mail with (RFC 6376).</summary>
public static class DkimCommands
{
    public static Command Build()
    {
        var dkim = new Command("dkim", "Manage DKIM signing keys. Once a domain has a key, mail From: that domain is signed when it is sent; publish the printed TXT record in the domain's DNS.");
        dkim.Subcommands.Add(Generate());
        dkim.Subcommands.Add(List());
        return dkim;
    }

    private static Command Generate()
    {
        var config = CommonOptions.ConfigOption();
        var domain = new Argument<string>("DOMAIN") { Description = "The domain of the From: addresses to sign, e.g. example.test" };
        var selector = new Option<string>("--selector", "-s") { Description = $"The selector: the key is published at SELECTOR._domainkey.DOMAIN (default {DkimKeyStore.DefaultSelector}; use a new one to rotate keys)", DefaultValueFactory = _ => DkimKeyStore.DefaultSelector };
        var algorithm = new Option<string>("--algorithm", "-a") { Description = "rsa (rsa-sha256, 2048 bits; every verifier supports it) or ed25519 (ed25519-sha256, RFC 8463)", DefaultValueFactory = _ => "rsa" };
        algorithm.AcceptOnlyFromAmong("rsa", "ed25519");
        var cmd = new Command("generate", "Generate a signing key for a domain and print the DNS TXT record to publish.") { config, domain, selector, algorithm };
        cmd.SetAction(r =>
        {
            var settings = CommonOptions.LoadSettings(r.GetValue(config));
            if (settings is null)
            {
                return CommonOptions.ConfigErrorExitCode;
            }
            try
            {
                var alg = r.GetValue(algorithm) == "ed25519" ? DkimSignatureAlgorithm.Ed25519Sha256 : DkimSignatureAlgorithm.RsaSha256;
                var key = new DkimKeyStore(settings.Storage.DataDir).Generate(r.GetValue(domain)!, r.GetValue(selector)!, alg);
                Console.WriteLine($"DKIM key for {key.Domain} ({AlgorithmName(key)}) written to {key.Path}");
                Console.WriteLine("Publish this TXT record in the domain's DNS:");
                Console.WriteLine();
                Console.WriteLine(key.ZoneLine());
                Console.WriteLine();
                Console.WriteLine($"Mail From: @{key.Domain} is signed from now on with d={key.Domain} s={key.Selector}.");
                return 0;
            }
            catch (DkimKeyException e)
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.UsageError, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return DirectoryCommandRunner.Fail(DirectoryCommandRunner.Failure, e.Message);
            }
        });
        return cmd;
    }

    private static Command List()
    {
        var config = CommonOptions.ConfigOption();
        var cmd = new Command("list", "List the DKIM keys: domain, selector, algorithm, creation time, and the TXT record to publish.") { config };
        cmd.SetAction(r =>
        {
            var settings = CommonOptions.LoadSettings(r.GetValue(config));
            if (settings is null)
            {
                return CommonOptions.ConfigErrorExitCode;
            }
            foreach (var key in new DkimKeyStore(settings.Storage.DataDir).List())
            {
                Console.WriteLine($"{key.Domain}\t{key.Selector}\t{AlgorithmName(key)}\t{key.CreatedUtc:u}");
                Console.WriteLine("  " + key.ZoneLine());
            }
            return 0;
        });
        return cmd;
    }

    private static string AlgorithmName(DkimKey key) => key.Algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519-sha256" : "rsa-sha256";
}
