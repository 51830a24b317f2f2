namespace Portcullis.Audit.Smtp;

/// <summary>
/// The relay test matrix, as data (catalog §1.1 nmap, §1.3 MAPS and DSBL, §1.4 extras). Each row is one
/// template; <see cref="RelayVectorGenerator"/> expands it over the target's names. Adding a vector is
/// adding a row.
/// </summary>
public static class RelayVectorTable
{
    private const string Nmap = "nmap smtp-open-relay #{0} (catalog §1.1)";
    private const string Maps = "MAPS relay-test {0} (catalog §1.3)";
    private const string Dsbl = "DSBL relaytest (catalog §1.3)";
    private const string Extra = "catalog §1.4";

    private static string N(int n) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Nmap, n);
    private static string M(string t) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Maps, t);

    public static IReadOnlyList<RelayVectorTemplate> Templates { get; } =
    [
        // §1.1 nmap's 16 tests. {from}@{ip} is the forged sender of tests 4-16.
        new("nmap-01", "null sender", N(1), "<>", "<{to}@{dest}>"),
        new("nmap-02", "plain third-party relay", N(2), "<{from}@{dest}>", "<{to}@{dest}>"),
        new("nmap-03", "sender forged as the server's own name", N(3), "<{from}@{host}>", "<{to}@{dest}>"),
        new("nmap-04", "sender forged as the server's address literal", N(4), "<{from}@{ip}>", "<{to}@{dest}>"),
        new("nmap-05", "percent hack via the address literal", N(5), "<{from}@{ip}>", "<{to}%{dest}@{ip}>"),
        new("nmap-06", "percent hack via the server's name", N(6), "<{from}@{ip}>", "<{to}%{dest}@{host}>"),
        new("nmap-07", "quoted remote address as local part", N(7), "<{from}@{ip}>", "<\"{to}@{dest}\">"),
        new("nmap-08", "quoted percent hack", N(8), "<{from}@{ip}>", "<\"{to}%{dest}\">"),
        new("nmap-09", "double @ via the address literal", N(9), "<{from}@{ip}>", "<{to}@{dest}@{ip}>"),
        new("nmap-10", "quoted remote address at the address literal", N(10), "<{from}@{ip}>", "<\"{to}@{dest}\"@{ip}>"),
        new("nmap-11", "double @ via the server's name", N(11), "<{from}@{ip}>", "<{to}@{dest}@{host}>"),
        new("nmap-12", "source route through the address literal", N(12), "<{from}@{ip}>", "<@{ip}:{to}@{dest}>"),
        new("nmap-13", "source route through the server's name", N(13), "<{from}@{ip}>", "<@{host}:{to}@{dest}>"),
        new("nmap-14", "UUCP bang path", N(14), "<{from}@{ip}>", "<{dest}!{to}>"),
        new("nmap-15", "bang path at the address literal", N(15), "<{from}@{ip}>", "<{dest}!{to}@{ip}>"),
        new("nmap-16", "bang path at the server's name", N(16), "<{from}@{ip}>", "<{dest}!{to}@{host}>"),

        // §1.3 MAPS relay-test (tests 1, 2 and 5 are nmap-02/nmap-01 again).
        new("maps-quote", "quoted remote address, sender in the target's domain", M("quote test"), "<spamtest@{host}>", "<\"{to}@{dest}\">"),
        new("maps-3", "sender at localhost", M("#3"), "<spamtest@localhost>", "<{to}@{dest}>"),
        new("maps-4", "unqualified sender", M("#4"), "<spamtest>", "<{to}@{dest}>"),
        new("maps-6", "sender in the target's domain", M("#6"), "<spamtest@{host}>", "<{to}@{dest}>"),

        // §1.3 DSBL, not domain specific: MAIL FROM x RCPT TO cross product.
        .. DsblCross(),

        // §1.3 DSBL, domain specific: {d} runs over [127.0.0.1], localhost, the address literal and the target's names.
        new("dsbl-d-plain", "sender at a local domain", Dsbl, "<nobody@{d}>", "<{to}@{dest}>"),
        new("dsbl-d-quoted", "quoted remote address, sender at a local domain", Dsbl, "<nobody@{d}>", "<\"{to}@{dest}\">"),
        new("dsbl-d-nobrackets", "RFC 822 recipient without angle brackets, sender at a local domain", Dsbl, "<nobody@{d}>", "{to}@{dest}"),
        new("dsbl-d-percent", "percent hack", Dsbl, "<nobody@{d}>", "<{to}%{dest}@{d}>"),
        new("dsbl-d-percent-bare", "bare percent hack", Dsbl, "<nobody@{d}>", "<{to}%{dest}>"),
        new("dsbl-d-percent-quoted", "quoted percent hack", Dsbl, "<nobody@{d}>", "<\"{to}%{dest}\">"),
        new("dsbl-d-double-at", "double @", Dsbl, "<nobody@{d}>", "<{to}@{dest}@{d}>"),
        new("dsbl-d-quoted-at", "quoted remote address at a local domain", Dsbl, "<nobody@{d}>", "<\"{to}@{dest}\"@{d}>"),
        new("dsbl-d-route", "source route through a local domain", Dsbl, "<nobody@{d}>", "<@{d}:{to}@{dest}>"),
        new("dsbl-d-bang-sender", "bang-path sender at a local domain", Dsbl, "<{d}!nobody>", "<{to}@{dest}>"),

        // §1.4 normalisation vectors: the relay check and the router must agree.
        new("x-trailing-dot", "trailing dot on the remote domain", Extra, "<{from}@{dest}>", "<{to}@{dest}.>"),
        new("x-uppercase", "upper-case remote domain", Extra, "<{from}@{dest}>", "<{to}@{DEST}>"),
        new("x-uppercase-percent", "percent hack with an upper-case local domain", Extra, "<{from}@{dest}>", "<{to}%{dest}@{HOST}>"),
        new("x-ipv6-loopback", "percent hack via the IPv6 loopback literal", Extra, "<{from}@{dest}>", "<{to}%{dest}@[IPv6:::1]>"),
        new("x-rfc822-sender", "RFC 822 sender with a display name", Extra, "the dude <{from}@{dest}>", "<{to}@{dest}>"),
        new("x-trailing-at", "trailing @ (mailradar method 18)", Extra, "<{from}@{dest}>", "<{to}@{dest}@>"),
        new("x-multi-route", "source route with two hops", Extra, "<{from}@{dest}>", "<@{host},@{ip}:{to}@{dest}>"),
        new("x-postmaster-sender", "sender forged as the server's postmaster", Extra, "<postmaster@{host}>", "<{to}@{dest}>"),
        new("x-mailer-daemon", "bounce-address sender", Extra, "<MAILER-DAEMON>", "<{to}@{dest}>"),
        new("x-helo-localhost", "HELO spoofed as localhost.localdomain", Extra, "<{from}@{dest}>", "<{to}@{dest}>", Helo: "localhost.localdomain"),
        new("x-helo-own-name", "HELO spoofed as the server's own name", Extra, "<{from}@{dest}>", "<{to}@{dest}>", Helo: "{host}"),
        new("x-helo-own-address", "HELO spoofed as the server's address literal", Extra, "<{from}@{dest}>", "<{to}@{dest}>", Helo: "{ip}"),
    ];

    private static IEnumerable<RelayVectorTemplate> DsblCross()
    {
        (string Id, string From)[] froms = [("domain", "<sender@{dest}>"), ("unqualified", "<nobody>"), ("bang", "<{dest}!sender>"), ("null", "<>")];
        (string Id, string To, string Trick)[] tos =
        [
            ("plain", "<{to}@{dest}>", "plain relay"),
            ("quoted", "<\"{to}@{dest}\">", "quoted remote address"),
            ("nobrackets", "{to}@{dest}", "recipient without angle brackets"),
            ("bang", "<{dest}!{to}>", "bang path"),
        ];
        foreach (var f in froms)
        {
            foreach (var t in tos)
            {
                yield return new RelayVectorTemplate($"dsbl-{f.Id}-{t.Id}", $"{t.Trick}, {f.Id} sender", Dsbl, f.From, t.To);
            }
        }
    }
}
