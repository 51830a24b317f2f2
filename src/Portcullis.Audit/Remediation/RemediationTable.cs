using Portcullis.Audit.Fingerprint;

namespace Portcullis.Audit.Remediation;

/// <summary>
/// The concrete fix per software per problem (issue 4: "for every failure the fix for the software found").
/// A missing entry falls back to the generic advice. Parameter names are from each product's documentation
/// (Postfix postconf(5) as quoted in catalog §1.5 and §2.4).
/// </summary>
public static class RemediationTable
{
    private static readonly Dictionary<(FixTopic, SmtpSoftware), string> Fixes = new()
    {
        // ---- relaying
        [(FixTopic.OpenRelay, SmtpSoftware.Postfix)] = "In main.cf: smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination. Check that mynetworks lists only your own hosts (`postconf mynetworks`; never 0.0.0.0/0 or a whole provider block; mynetworks_style = host), and that relay_domains lists only domains you really back up. Then `postfix reload`.",
        [(FixTopic.OpenRelay, SmtpSoftware.Exim)] = "In the RCPT ACL (acl_check_rcpt) keep `accept hosts = +relay_from_hosts` and `accept authenticated = *` only for your own hosts and users, and end with `require verify = recipient` / `deny message = relay not permitted` for domains that are not +local_domains or +relay_to_domains. Make sure hostlist relay_from_hosts is only your own networks (Debian: dc_relay_nets).",
        [(FixTopic.OpenRelay, SmtpSoftware.Sendmail)] = "Remove FEATURE(`promiscuous_relay') and FEATURE(`relay_local_from') from the .mc file; list only your own networks in /etc/mail/access (`Connect:192.0.2 RELAY`) and only your domains in relay-domains; rebuild sendmail.cf and restart.",
        [(FixTopic.OpenRelay, SmtpSoftware.Exchange)] = "On the receive connector facing the Internet remove the 'Anonymous users' ms-Exch-SMTP-Accept-Any-Recipient permission (Get-ReceiveConnector | Get-ADPermission | where {$_.ExtendedRights -like 'ms-Exch-SMTP-Accept-Any-Recipient'}; Remove-ADPermission ...). Relay connectors must be restricted with RemoteIPRanges to your application servers.",
        [(FixTopic.OpenRelay, SmtpSoftware.OpenSmtpd)] = "In smtpd.conf relay only for local clients or authenticated users: `match from any for domain <local> action local` for inbound mail, `match from local for any action relay` and `match auth from any for any action relay` for outbound. Never `match from any for any action relay`.",
        [(FixTopic.OpenRelay, SmtpSoftware.Qmail)] = "List only your own domains in control/rcpthosts (and morercpthosts) and allow RELAYCLIENT only for your own networks in /etc/tcp.smtp (e.g. `192.0.2.:allow,RELAYCLIENT=\"\"` and `:allow` for everyone else); rebuild tcp.smtp.cdb.",
        [(FixTopic.OpenRelay, SmtpSoftware.Haraka)] = "Enable the relay plugin with an ACL: in config/relay.ini set acl=true and list only your own networks in config/relay_acl_allow; keep rcpt_to.in_host_list (config/host_list) for inbound domains; require auth for submission.",
        [(FixTopic.OpenRelay, SmtpSoftware.HMailServer)] = "Settings > Advanced > IP Ranges: for the 'Internet' range untick 'Allow deliveries from external to external' (and from local to external without SMTP authentication); under Settings > Protocols > SMTP > Delivery of e-mail keep 'Require SMTP authentication' on for external to external.",
        [(FixTopic.OpenRelay, SmtpSoftware.Portcullis)] = "Portcullis relays only for authenticated users and trusted_networks: remove the client's network from trusted_networks in portcullis.toml (`portcullis config check` refuses 0.0.0.0/0) and check that a proxy in front passes the real client address (PROXY protocol).",

        [(FixTopic.RoutingTrick, SmtpSoftware.Postfix)] = "Set allow_untrusted_routing = no (the default) on every gateway/backup MX (relay_domains), keep resolve_dequoted_address = yes, and use reject_unauth_destination in smtpd_relay_restrictions. On internal hubs that trust the gateway, also set allow_percent_hack = no and swap_bangpath = no.",
        [(FixTopic.RoutingTrick, SmtpSoftware.Exim)] = "Keep Debian's ACL rules that deny local parts containing @ % ! / | (`deny local_parts = ^.*[@%!/|]` for local domains and `^.*[@%!]` for others) before any accept, and do not set percent_hack_domains.",
        [(FixTopic.RoutingTrick, SmtpSoftware.Sendmail)] = "Remove FEATURE(`loose_relay_check') so that user%host@yourhost is re-checked against the final host, and do not use FEATURE(`relay_based_on_MX') on gateways.",
        [(FixTopic.RoutingTrick, SmtpSoftware.OpenSmtpd)] = "Accept sender-routed addresses only for your own domains: `match from any for domain <local> action local` and no `for any` rule from `any`; do not forward %/! addresses in aliases.",
        [(FixTopic.RoutingTrick, SmtpSoftware.Portcullis)] = "Portcullis refuses sender-specified routing from untrusted clients: report this as a bug, with the transcript.",

        [(FixTopic.SenderOrHeloTrust, SmtpSoftware.Postfix)] = "Never grant relay from HELO or sender checks: remove PERMIT results of check_helo_access / check_sender_access placed before reject_unauth_destination in smtpd_relay_restrictions / smtpd_recipient_restrictions (\"Dangerous use of smtpd_recipient_restrictions\", SMTPD_ACCESS_README).",
        [(FixTopic.SenderOrHeloTrust, SmtpSoftware.Sendmail)] = "Remove FEATURE(`relay_local_from') and FEATURE(`relay_mail_from'): they let anyone relay by forging a local sender.",

        // ---- smuggling
        [(FixTopic.Smuggling, SmtpSoftware.Postfix)] = "Upgrade to Postfix >= 3.9 (or 3.8.5, 3.7.10, 3.6.14, 3.5.24) and set smtpd_forbid_bare_newline = normalize (or reject) and smtpd_forbid_unauth_pipelining = yes. On older versions: smtpd_data_restrictions = reject_unauth_pipelining and smtpd_discard_ehlo_keywords = chunking.",
        [(FixTopic.Smuggling, SmtpSoftware.Exim)] = "Upgrade to Exim >= 4.97.1 (CVE-2023-51766), which accepts only CRLF.CRLF as end of data.",
        [(FixTopic.Smuggling, SmtpSoftware.Sendmail)] = "Upgrade to Sendmail >= 8.18.1 (CVE-2023-51765), which refuses bare CR and LF in SMTP input, and do not relax that with srv_features flags (see the 8.18.1 release notes).",
        [(FixTopic.Smuggling, SmtpSoftware.Exchange)] = "Apply the current Exchange cumulative update; only <CR><LF>.<CR><LF> may end DATA.",
        [(FixTopic.Smuggling, SmtpSoftware.Portcullis)] = "Portcullis accepts only CRLF.CRLF as end of data: report this as a bug, with the transcript.",

        // ---- STARTTLS / TLS
        [(FixTopic.StartTlsInjection, SmtpSoftware.Postfix)] = "Upgrade Postfix (fixed in 2.4.16/2.5.12/2.6.9/2.7.3, CVE-2011-0411): plaintext after STARTTLS must be discarded.",
        [(FixTopic.StartTlsInjection, SmtpSoftware.Exim)] = "Upgrade Exim to a current release; buffered plaintext after STARTTLS must be discarded (RFC 3207 §4.2).",
        [(FixTopic.StartTlsMissing, SmtpSoftware.Postfix)] = "Set smtpd_tls_cert_file / smtpd_tls_key_file (smtpd_tls_chain_files) and smtpd_tls_security_level = may.",
        [(FixTopic.StartTlsMissing, SmtpSoftware.Exim)] = "Set tls_certificate, tls_privatekey and tls_advertise_hosts = * (Debian: MAIN_TLS_ENABLE = true).",
        [(FixTopic.StartTlsMissing, SmtpSoftware.OpenSmtpd)] = "Add `pki NAME cert ... key ...` and `listen on IFACE tls pki NAME` in smtpd.conf.",
        [(FixTopic.StartTlsMissing, SmtpSoftware.Portcullis)] = "Configure [tls] cert_file and key_file in portcullis.toml.",
        [(FixTopic.Certificate, SmtpSoftware.Postfix)] = "Install a certificate for the MX name from a public CA (e.g. certbot) in smtpd_tls_chain_files and reload.",

        // ---- AUTH
        [(FixTopic.AuthBeforeTls, SmtpSoftware.Postfix)] = "Set smtpd_tls_auth_only = yes (AUTH only after STARTTLS), and offer AUTH on the submission ports (587/465) rather than on port 25.",
        [(FixTopic.AuthBeforeTls, SmtpSoftware.Exim)] = "In the authenticators set `server_advertise_condition = ${if def:tls_in_cipher}` (Debian's default for PLAIN/LOGIN).",
        [(FixTopic.AuthBeforeTls, SmtpSoftware.OpenSmtpd)] = "Use `listen on IFACE port submission tls-require pki NAME auth` and do not put `auth` on a listener without tls-require.",
        [(FixTopic.AuthBeforeTls, SmtpSoftware.Exchange)] = "On the receive connector require TLS before basic authentication: Set-ReceiveConnector -AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS.",

        // ---- enumeration, backscatter, hygiene
        [(FixTopic.Vrfy, SmtpSoftware.Postfix)] = "Set disable_vrfy_command = yes.",
        [(FixTopic.Vrfy, SmtpSoftware.Exim)] = "Do not accept VRFY in acl_smtp_vrfy (the default ACL denies it).",
        [(FixTopic.Vrfy, SmtpSoftware.Sendmail)] = "define(`confPRIVACY_FLAGS', `goaway') (includes novrfy, noexpn).",
        [(FixTopic.Expn, SmtpSoftware.Postfix)] = "Postfix does not implement EXPN; a listed mailbox comes from something in front of it.",
        [(FixTopic.Expn, SmtpSoftware.Exim)] = "Do not accept EXPN in acl_smtp_expn (the default denies it).",
        [(FixTopic.Expn, SmtpSoftware.Sendmail)] = "define(`confPRIVACY_FLAGS', `goaway') (includes noexpn).",
        [(FixTopic.RcptEnumeration, SmtpSoftware.Postfix)] = "Keep smtpd_soft_error_limit (10) and smtpd_hard_error_limit (20) at their defaults, smtpd_error_sleep_time = 1s, and consider postscreen or an anvil rate limit (smtpd_client_recipient_rate_limit).",
        [(FixTopic.RcptEnumeration, SmtpSoftware.Exim)] = "Add a delay or drop after repeated unknown recipients in acl_check_rcpt (e.g. `deny !verify = recipient delay = 5s` with a ratelimit condition), and set smtp_accept_max_per_host.",
        [(FixTopic.Backscatter, SmtpSoftware.Postfix)] = "Keep smtpd_reject_unlisted_recipient = yes and make sure local_recipient_maps / virtual_mailbox_maps / relay_recipient_maps list the valid recipients, so unknown users are refused at RCPT instead of bounced (BACKSCATTER_README).",
        [(FixTopic.Backscatter, SmtpSoftware.Exim)] = "Use `require verify = recipient` in acl_check_rcpt so unknown users are refused at RCPT.",
        [(FixTopic.Backscatter, SmtpSoftware.Exchange)] = "Enable recipient filtering (Set-RecipientFilterConfig -RecipientValidationEnabled $true) so unknown recipients are refused at RCPT.",
        [(FixTopic.Backscatter, SmtpSoftware.Qmail)] = "qmail accepts every recipient of rcpthosts and bounces later: add a recipient check (e.g. the qmail-rcptcheck / RCPTCHECK patch or spamcontrol).",
        [(FixTopic.Postmaster, SmtpSoftware.Postfix)] = "Add `postmaster: root` (or a real person) to the alias_maps (or postmaster@DOMAIN to virtual_alias_maps for every virtual domain) and run newaliases / postmap.",
        [(FixTopic.Postmaster, SmtpSoftware.Exim)] = "Accept postmaster for all local domains early in acl_check_rcpt (`accept local_parts = postmaster domains = +local_domains`) and alias it.",
        [(FixTopic.Abuse, SmtpSoftware.Postfix)] = "Add an `abuse` alias (alias_maps, or abuse@DOMAIN in virtual_alias_maps) that a person reads.",
        [(FixTopic.Banner, SmtpSoftware.Postfix)] = "Set smtpd_banner = $myhostname ESMTP (drop $mail_name and version details).",
        [(FixTopic.Banner, SmtpSoftware.Exim)] = "Set smtp_banner = $smtp_active_hostname ESMTP (without $version_number).",
        [(FixTopic.Banner, SmtpSoftware.Sendmail)] = "define(`confSMTP_LOGIN_MSG', `$j ESMTP') in the .mc file.",
        [(FixTopic.HeloSyntax, SmtpSoftware.Postfix)] = "Set smtpd_helo_required = yes and smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname (never a PERMIT that also grants relaying).",
        [(FixTopic.HeloSyntax, SmtpSoftware.Exim)] = "Do not list the client in helo_accept_junk_hosts, and keep the default syntax check of HELO/EHLO arguments.",
        [(FixTopic.RecipientLimit, SmtpSoftware.Postfix)] = "Set smtpd_recipient_limit to at least 100 (the default is 1000).",
        [(FixTopic.RecipientLimit, SmtpSoftware.Exim)] = "Set recipients_max to 0 (no limit) or at least 100.",
        [(FixTopic.RecipientLimit, SmtpSoftware.Portcullis)] = "Set [limits] max_recipients to at least 100 in portcullis.toml.",
        [(FixTopic.Pipelining, SmtpSoftware.Postfix)] = "Set smtpd_forbid_unauth_pipelining = yes (the default from Postfix 3.9; available in 3.8.1, 3.7.6, 3.6.10, 3.5.20), or smtpd_data_restrictions = reject_unauth_pipelining on older versions.",
        [(FixTopic.Pipelining, SmtpSoftware.Exim)] = "Keep smtp_enforce_sync = true (the default) and do not list clients in pipelining_connect_advertise_hosts you do not trust.",
        [(FixTopic.PathLimits, SmtpSoftware.Postfix)] = "Keep strict_rfc821_envelopes = yes and smtpd_reject_unlisted_recipient = yes; Postfix refuses over-long addresses only with them.",
        [(FixTopic.LineHandling, SmtpSoftware.Postfix)] = "Upgrade to Postfix >= 3.9 and set smtpd_forbid_bare_newline = reject (with smtpd_forbid_bare_newline_exclusions = $mynetworks).",
        // ---- NTLM information leak (catalog §4)
        [(FixTopic.NtlmInfo, SmtpSoftware.Postfix)] = "Postfix offers NTLM only through Cyrus SASL's ntlm plugin: set `mech_list: PLAIN LOGIN` in the Cyrus smtpd.conf (/etc/postfix/sasl/smtpd.conf) or remove the plugin, keep smtpd_tls_auth_only = yes, and offer AUTH on the submission ports rather than on port 25.",
        [(FixTopic.NtlmInfo, SmtpSoftware.Exim)] = "Remove the `driver = spa` authenticator and any cyrus_sasl/gsasl authenticator with `server_mech = ntlm`, or limit it to internal clients with server_advertise_condition (e.g. `${if match_ip{$sender_host_address}{+relay_from_hosts}}`).",
        [(FixTopic.NtlmInfo, SmtpSoftware.Sendmail)] = "Leave NTLM out of the SASL mechanisms: define(`confAUTH_MECHANISMS', `PLAIN LOGIN') and TRUST_AUTH_MECH(`PLAIN LOGIN') in the .mc file (and `mech_list: PLAIN LOGIN` in Sendmail.conf for Cyrus SASL); rebuild sendmail.cf and restart.",
        [(FixTopic.NtlmInfo, SmtpSoftware.Exchange)] = "On every Internet-facing receive connector drop Integrated Windows authentication: Set-ReceiveConnector \"<name>\" -AuthMechanism Tls (add BasicAuth,BasicAuthRequireTLS only on client submission connectors). Keep Integrated (NTLM/Kerberos) for internal connectors only.",
        [(FixTopic.NtlmInfo, SmtpSoftware.OpenSmtpd)] = "OpenSMTPD itself offers only PLAIN and LOGIN: AUTH NTLM comes from a proxy or filter in front of it; disable NTLM there.",
        [(FixTopic.NtlmInfo, SmtpSoftware.Qmail)] = "Stock qmail has no SMTP AUTH: NTLM comes from an AUTH patch built with Cyrus SASL or a gateway in front; set `mech_list: PLAIN LOGIN` for that SASL application or disable NTLM on the gateway.",
        [(FixTopic.NtlmInfo, SmtpSoftware.Haraka)] = "Haraka's own auth plugins do not offer NTLM: find the plugin in config/plugins that advertises it and remove it, or limit it to internal connections.",
        [(FixTopic.NtlmInfo, SmtpSoftware.HMailServer)] = "hMailServer itself does not advertise NTLM: AUTH NTLM comes from a gateway or proxy in front of it (an Exchange or a security appliance); disable NTLM there.",
        [(FixTopic.NtlmInfo, SmtpSoftware.Portcullis)] = "Portcullis never offers NTLM (only PLAIN, LOGIN and SCRAM-SHA-256, after TLS, on submission): AUTH NTLM comes from something in front of it; disable it there, or report a bug with the transcript.",

        // ---- reverse DNS (catalog §4; deliverability)
        [(FixTopic.ReverseDns, SmtpSoftware.Postfix)] = "Ask whoever controls the reverse zone of the address (usually the hosting provider) for a PTR naming the host, give that name an A/AAAA record with the address, and set myhostname to the same name (smtpd_banner and the outgoing HELO, smtp_helo_name, use $myhostname).",
        [(FixTopic.ReverseDns, SmtpSoftware.Exim)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and set primary_hostname to the same name (the greeting and the smtp transport's helo_data use it).",
        [(FixTopic.ReverseDns, SmtpSoftware.Sendmail)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and make it the host's canonical name ($j: define(`confDOMAIN_NAME', `NAME') in the .mc file), which the greeting and HELO use.",
        [(FixTopic.ReverseDns, SmtpSoftware.Exchange)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and set the same FQDN on the connectors: Set-ReceiveConnector -Fqdn NAME (greeting) and Set-SendConnector -Fqdn NAME (outgoing HELO).",
        [(FixTopic.ReverseDns, SmtpSoftware.OpenSmtpd)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and use that name in smtpd.conf: `listen on IFACE hostname NAME` and `action ... relay helo NAME`.",
        [(FixTopic.ReverseDns, SmtpSoftware.Qmail)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and put the name in control/me (control/smtpgreeting for the greeting, control/helohost for outgoing HELO).",
        [(FixTopic.ReverseDns, SmtpSoftware.Haraka)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and put the name in config/me (used in the greeting and Received headers).",
        [(FixTopic.ReverseDns, SmtpSoftware.HMailServer)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and enter it as Settings > Protocols > SMTP > Delivery of e-mail > Local host name (used in the greeting and outgoing HELO).",
        [(FixTopic.ReverseDns, SmtpSoftware.Portcullis)] = "Ask whoever controls the reverse zone of the address for a PTR naming the host, give that name an A/AAAA record with the address, and set [server] hostname in portcullis.toml to that name (the greeting and EHLO use it).",

        // ---- undeclared 8-bit data (catalog §4)
        [(FixTopic.DsnReflection, SmtpSoftware.Postfix)] = "Offer DSN only to your own clients, as DSN_README's \"Restricting the scope of success notifications\" shows: smtpd_discard_ehlo_keyword_address_maps = cidr:/etc/postfix/esmtp_access, with your networks first (192.0.2.0/24 silent-discard) and then 0.0.0.0/0 and ::/0 with \"silent-discard, dsn\"; or smtpd_discard_ehlo_keywords = silent-discard, dsn on the port 25 smtpd in master.cf, keeping DSN on submission.",
        [(FixTopic.DsnReflection, SmtpSoftware.Exim)] = "Advertise DSN only to your own hosts: dsn_advertise_hosts = +relay_from_hosts (or leave it unset, the default, which offers DSN to nobody).",
        [(FixTopic.DsnReflection, SmtpSoftware.Sendmail)] = "Stop success notices for everyone: add noreceipts to the privacy options (define(`confPRIVACY_FLAGS', `...,noreceipts') in the .mc file, or O PrivacyOptions=...,noreceipts), and rebuild sendmail.cf.",
        [(FixTopic.DsnReflection, SmtpSoftware.Exchange)] = "On the Internet-facing (anonymous) receive connector turn the DSN extension off (Set-ReceiveConnector -Identity \"SERVER\\Default Frontend SERVER\" -DeliveryStatusNotificationEnabled $false) and keep it on the client (authenticated) connector.",
        [(FixTopic.DsnReflection, SmtpSoftware.OpenSmtpd)] = "Add no-dsn to the listen line of the Internet-facing listener (listen on egress port 25 ... no-dsn) and keep DSN on the authenticated submission listener.",
        [(FixTopic.DsnReflection, SmtpSoftware.Qmail)] = "Stock qmail has no DSN: a patch added it. Limit its success notices to authenticated (RELAYCLIENT) sessions, or remove the patch.",
        [(FixTopic.DsnReflection, SmtpSoftware.Haraka)] = "Find the plugin that sends success notices (or honours NOTIFY=SUCCESS in outbound) and let it act only when connection.relaying is true (an authenticated or trusted client).",
        [(FixTopic.DsnReflection, SmtpSoftware.HMailServer)] = "Turn off delivery-success reports for messages from external, unauthenticated senders (look in the SMTP delivery settings and in EventHandlers.vbs for what answers NOTIFY=SUCCESS).",
        [(FixTopic.DsnReflection, SmtpSoftware.Portcullis)] = "Portcullis honours NOTIFY=SUCCESS only on submission, for authenticated users: report this as a bug, with the transcript.",
        [(FixTopic.EightBit, SmtpSoftware.Postfix)] = "Treat headers and body alike: either leave strict_7bit_headers and strict_8bitmime_body both at no (the default: pass 8-bit on, converting for 7-bit hops unless disable_mime_output_conversion = yes) or set strict_8bitmime = yes, which turns both on (it refuses much legacy mail); never only one of them. Check header_checks/body_checks for a rule that refuses 8-bit in only one place.",
        [(FixTopic.EightBit, SmtpSoftware.Exim)] = "Exim passes 8-bit headers and bodies through unchanged; remove the acl_smtp_data (or acl_smtp_mime) rule that refuses 8-bit in only one of them, or make it refuse both.",
        [(FixTopic.EightBit, SmtpSoftware.Sendmail)] = "Choose one 8-bit mode for all data: define(`confEIGHT_BIT_HANDLING', `mimefy') converts for 7-bit hops, `strict' refuses undeclared 8-bit, `pass8' passes it on; then remove milters or checks that refuse 8-bit only in headers or only in bodies.",
        [(FixTopic.EightBit, SmtpSoftware.Exchange)] = "Look for a transport rule or content filter that refuses 8-bit text only in headers or only in bodies, and make it treat both alike.",
        [(FixTopic.EightBit, SmtpSoftware.OpenSmtpd)] = "OpenSMTPD passes 8-bit data through unchanged: the filter that refuses 8-bit in only headers or only bodies must treat both alike.",
        [(FixTopic.EightBit, SmtpSoftware.Qmail)] = "qmail passes 8-bit data through unchanged: remove the patch or filter (e.g. a qmail-queue wrapper) that refuses 8-bit in only headers or only bodies, or make it refuse both.",
        [(FixTopic.EightBit, SmtpSoftware.Haraka)] = "Check the data.* plugins in config/plugins (e.g. data.headers) for a rule that refuses 8-bit text only in headers or only in bodies, and make it treat both alike.",
        [(FixTopic.EightBit, SmtpSoftware.HMailServer)] = "Check anti-spam and scripting rules (EventHandlers.vbs, OnAcceptMessage) for one that refuses 8-bit text only in headers or only in bodies, and make it treat both alike.",
        [(FixTopic.EightBit, SmtpSoftware.Portcullis)] = "Portcullis treats undeclared 8-bit data the same in headers and body: report this as a bug, with the transcript.",
        // ---- a DATA text line over 1000 octets (catalog §4 "Long lines", RFC 5321 §4.5.3.1.6); shown on the warning too
        [(FixTopic.LongDataLine, SmtpSoftware.Postfix)] = "Postfix keeps lines up to line_length_limit (2048) whole and, when relaying, breaks lines over smtp_line_length_limit (998) by inserting CRLF SPACE, so no piece starts with a dot; keep smtp_line_length_limit above 0. To refuse such lines instead, add a body check: body_checks = regexp:/etc/postfix/long-lines with the line `/^.{999}/ REJECT 5.6.0 Text line longer than 998 octets` (Postfix 3.7 then answers 550 5.6.0).",
        [(FixTopic.LongDataLine, SmtpSoftware.Exim)] = "Refuse in acl_smtp_data: `deny message = Text line longer than 998 octets (RFC 5321 4.5.3.1.6)` with `condition = ${if >{$max_received_linelength}{998}}` ($max_received_linelength is not set with spool_files_wireformat). When relaying, Exim 4.95+ bounces lines over the smtp transport's message_linelength_limit (998) instead of cutting them: do not raise it.",
        [(FixTopic.LongDataLine, SmtpSoftware.Sendmail)] = "Sendmail breaks lines over a mailer's L= limit (990 for the SMTP mailers by default) by inserting '!' and a line break. Set define(`SMTP_MAILER_LL', `998') (and RELAY_MAILER_LL) in the .mc file so lines the RFC allows pass whole, and refuse longer ones with a milter instead of letting them be broken.",
        [(FixTopic.LongDataLine, SmtpSoftware.Exchange)] = "Exchange has no setting for the length of a text line: have the gateway in front (or a transport agent) refuse text lines over 998 octets rather than re-wrap them, and make applications that submit mail encode long lines (quoted-printable or base64).",
        [(FixTopic.LongDataLine, SmtpSoftware.OpenSmtpd)] = "OpenSMTPD takes long lines and passes them on unchanged. To refuse them, add a filter (smtpd.conf `filter ... proc-exec`) that notes data lines over 998 octets and answers reject at the commit phase.",
        [(FixTopic.LongDataLine, SmtpSoftware.Qmail)] = "qmail-smtpd takes and relays lines of any length unchanged. To refuse them, wrap qmail-queue (QMAILQUEUE) with a filter that exits 31 (permanent refusal, qmail-queue(8)) when a line exceeds 998 octets.",
        [(FixTopic.LongDataLine, SmtpSoftware.Haraka)] = "Check max_data_line_length in config/smtp.ini and what your Haraka version does past it: it must refuse the message (5xx), never fold or cut the line; otherwise refuse in a data_post plugin.",
        [(FixTopic.LongDataLine, SmtpSoftware.HMailServer)] = "hMailServer has no text-line limit: refuse such messages in an OnAcceptMessage script (EventHandlers.vbs) or at a gateway in front, and check that nothing re-wraps them on the way out.",
        [(FixTopic.LongDataLine, SmtpSoftware.Portcullis)] = "Portcullis refuses text lines over 1000 octets with 550 5.6.0: a warning or failure here is a bug; report it with the transcript.",
        // ---- NUL in a message header (catalog §4 "NUL / control bytes")
        [(FixTopic.HeaderNul, SmtpSoftware.Postfix)] = "In main.cf: message_reject_characters = \\0 (Postfix 2.3+; Postfix 3.7 then answers 550 5.7.1 disallowed character). Without it Postfix 3.7 answers 250 and stores the header cut at the NUL. It is off with receive_override_options = no_header_body_checks; message_strip_characters = \\0 would drop the NUL silently instead.",
        [(FixTopic.HeaderNul, SmtpSoftware.Exim)] = "Exim has no option that refuses a NUL in a header; Exim 4.96 answers 250 and stores the NUL as '?'. To refuse it, add a check in acl_smtp_data (e.g. a ${run} of a script that looks for NUL in the message's -H spool file) or put a filtering gateway in front.",
        [(FixTopic.HeaderNul, SmtpSoftware.Sendmail)] = "Sendmail has no option that refuses a NUL in a header; the F=1 mailer flag only keeps NULs from being sent on (O'Reilly sendmail 4e §20.8.3). Refuse it with a milter (e.g. MIMEDefang) that rejects header values containing NUL.",
        [(FixTopic.HeaderNul, SmtpSoftware.Exchange)] = "Exchange has no setting that refuses NUL octets in headers: refuse them at the gateway in front (e.g. Postfix with message_reject_characters = \\0) or in a transport agent.",
        [(FixTopic.HeaderNul, SmtpSoftware.OpenSmtpd)] = "OpenSMTPD takes a NUL in a header and passes it on: add a filter (smtpd.conf `filter ... proc-exec`) that notes header lines containing NUL and answers reject at the commit phase.",
        [(FixTopic.HeaderNul, SmtpSoftware.Qmail)] = "qmail-smtpd passes NUL octets on: wrap qmail-queue (QMAILQUEUE) with a filter that exits 31 (permanent refusal, qmail-queue(8)) when a header line contains NUL.",
        [(FixTopic.HeaderNul, SmtpSoftware.Haraka)] = "Add a data_post plugin that answers DENY (550 5.6.0) when a header line of the transaction contains a NUL character.",
        [(FixTopic.HeaderNul, SmtpSoftware.HMailServer)] = "Make the OnAcceptMessage script (EventHandlers.vbs) refuse messages whose headers contain Chr(0), or refuse them at a gateway in front.",
        [(FixTopic.HeaderNul, SmtpSoftware.Portcullis)] = "Portcullis refuses a NUL anywhere in a message with 550 5.6.0: report this as a bug, with the transcript.",
    };

    private static readonly Dictionary<FixTopic, string> Generic = new()
    {
        [FixTopic.OpenRelay] = "Relay only for authenticated users and your own networks: refuse (550 5.7.1) every recipient outside your domains from any other client. Check the 'trusted networks' list and that the server sees real client addresses (not a load balancer's).",
        [FixTopic.RoutingTrick] = "Refuse sender-specified routing (user%host@, host!user@, quoted @, source routes) from untrusted clients, or apply the relay check to the final destination after rewriting (catalog §0.2).",
        [FixTopic.SenderOrHeloTrust] = "Never grant relaying because of the HELO name or the MAIL FROM address: both are chosen by the client.",
        [FixTopic.Smuggling] = "Accept only <CR><LF>.<CR><LF> as end of data; refuse bare CR and LF (RFC 5321 §2.3.8, §4.1.1.4); upgrade the mail server.",
        [FixTopic.StartTlsInjection] = "Discard any plaintext buffered after STARTTLS (RFC 3207 §4.2, CVE-2011-0411); upgrade the mail server.",
        [FixTopic.StartTlsMissing] = "Offer STARTTLS with a valid certificate (RFC 3207), or implicit TLS on 465 (RFC 8314).",
        [FixTopic.Certificate] = "Install a certificate for the server's name from a public CA and renew it before it expires.",
        [FixTopic.AuthBeforeTls] = "Offer AUTH only after STARTTLS (RFC 4954 §4), preferably only on the submission ports.",
        [FixTopic.Vrfy] = "Disable VRFY or answer 252 (RFC 5321 §3.5.3, §7.3).",
        [FixTopic.Expn] = "Disable EXPN (502) or answer 252 (RFC 5321 §7.3).",
        [FixTopic.RcptEnumeration] = "Slow down or disconnect clients after a few unknown recipients (RFC 5321 §7.8).",
        [FixTopic.Backscatter] = "Refuse unknown recipients at RCPT time (550 5.1.1) instead of accepting and bouncing later.",
        [FixTopic.Postmaster] = "Accept mail for postmaster@ every domain you serve and for <Postmaster> (RFC 5321 §4.5.1).",
        [FixTopic.Abuse] = "Accept mail for abuse@ your domains (RFC 2142) and have a person read it.",
        [FixTopic.Banner] = "Consider removing the product version from the greeting (RFC 5321 §7.5 calls this a trade-off).",
        [FixTopic.HeloSyntax] = "Refuse EHLO/HELO without an argument or with a syntactically invalid one (501), and never grant any privilege because of the HELO name.",
        [FixTopic.RecipientLimit] = "Accept at least 100 recipients per message and answer 452 beyond your limit (RFC 5321 §4.5.3.1.8, §4.5.3.1.10).",
        [FixTopic.Pipelining] = "Refuse (554 5.5.0) and disconnect clients that send commands before their turn when PIPELINING was not negotiated (RFC 2920 §3.1, RFC 5321 §4.3.1); upgrade the mail server.",
        [FixTopic.PathLimits] = "Refuse local parts over 64 octets, domains over 255 and paths over 256 with 501 (RFC 5321 §4.5.3.1.1-3) instead of accepting and mangling them.",
        [FixTopic.LineHandling] = "Refuse over-long lines with 500 and never split them; refuse bare LF, bare CR and NUL in commands.",
        [FixTopic.NtlmInfo] = "Do not offer AUTH NTLM on Internet-facing ports: its CHALLENGE tells anyone the host's NetBIOS and DNS names, its domain and forest and the Windows build. Keep NTLM (Integrated Windows authentication) for internal clients, and offer AUTH PLAIN/LOGIN only after TLS on the submission ports.",
        [FixTopic.ReverseDns] = "Publish a PTR record for the address that names the host (set by whoever owns the reverse zone, usually the provider), give that name an A/AAAA record with the same address (forward-confirmed reverse DNS), and use the same name in the greeting and in the HELO of outgoing mail.",
        [FixTopic.EightBit] = "Handle undeclared 8-bit data (no BODY=8BITMIME, no SMTPUTF8) the same way wherever it appears: refuse it (554 5.6.x) or accept it and convert it (quoted-printable, RFC 2047) or pass it only to hops that advertise 8BITMIME (RFC 6152). Refusing it only in headers or only in bodies lets a message pass one hop and bounce at the next.",
        [FixTopic.LongDataLine] = "Refuse text lines over 1000 octets including CRLF (550/552 5.6.0, RFC 5321 §4.5.3.1.6) or keep them whole from hop to hop; never cut them: a cut-off piece can start with '.' and end the message early (catalog §4). Senders should encode long lines (quoted-printable or base64).",
        [FixTopic.DsnReflection] = "Honour NOTIFY=SUCCESS (RFC 3461) only for senders who authenticated or come from your own networks; on the MX either do not advertise DSN or drop SUCCESS from untrusted clients. A success notice to a forged sender carries headers of the client's choosing to a third party: backscatter, like bouncing after accepting.",
        [FixTopic.HeaderNul] = "Refuse messages with a NUL (or another control character but TAB) in a header with 5xx (e.g. 550 5.6.0): header fields are printable US-ASCII (RFC 5322 §2.2), and C-based software cuts the header at the NUL or misreads addresses (catalog §4).",
    };

    /// <summary>The fix for <paramref name="topic"/> on <paramref name="software"/>, or the generic fix.</summary>
    public static string For(FixTopic topic, SmtpSoftware software) =>
        Fixes.TryGetValue((topic, software), out var fix) ? fix : Generic[topic];

    /// <summary>True when the table has advice specific to this software (tests check coverage).</summary>
    public static bool HasSpecific(FixTopic topic, SmtpSoftware software) => Fixes.ContainsKey((topic, software));
}
