#!/usr/bin/env bash
# A real Postfix (Debian's postfix package) with two listeners that handle undeclared 8-bit data
# differently, for the auditor's "8-bit without declaration" check (catalog §4):
#   127.0.1.146:25  cleanup with strict_7bit_headers = yes only: 8-bit headers refused, 8-bit bodies taken
#   127.0.1.147:25  cleanup with strict_8bitmime = yes (headers and body): both refused
#   127.0.1.148:25  cleanup with the content fixes the auditor recommends for Postfix (catalog §4):
#                   message_reject_characters = \0 (NUL refused) and a body_checks rule that refuses
#                   text lines of 999+ octets (line.long-data)
# Mail for alice@eightbit.test is stored under ROOT/mail; nothing is relayed (relayhost is unset and
# nothing but eightbit.test is accepted). Its own queue and config in ROOT; the system Postfix is
# untouched. Usage: postfix-8bit.sh start ROOT | stop ROOT. Needs root.
set -euo pipefail
action=${1:?usage: postfix-8bit.sh start|stop ROOT}
root=${2:-/var/lib/portcullis-tests/postfix-8bit}
etc=$root/etc
if [ "$action" = stop ]; then
    [ -f "$etc/main.cf" ] && postfix -c "$etc" stop >/dev/null 2>&1 || true
    exit 0
fi
getent group vmail >/dev/null || groupadd -g 5000 vmail
getent passwd vmail >/dev/null || useradd -u 5000 -g 5000 -d /nonexistent -s /usr/sbin/nologin -M vmail
postfix -c "$etc" stop >/dev/null 2>&1 || true
mkdir -p "$etc" "$root/spool" "$root/data" "$root/mail" "$root/log"
chown postfix "$root/data"
chown vmail:vmail "$root/mail"
cat >"$etc/master.cf" <<'CF'
127.0.1.146:25 inet n  -  n  -  -  smtpd -o cleanup_service_name=cleanup-7bit-headers
127.0.1.147:25 inet n  -  n  -  -  smtpd -o cleanup_service_name=cleanup-strict-8bit
127.0.1.148:25 inet n  -  n  -  -  smtpd -o cleanup_service_name=cleanup-content
cleanup-7bit-headers unix n - n - 0 cleanup -o strict_7bit_headers=yes
cleanup-strict-8bit  unix n - n - 0 cleanup -o strict_8bitmime=yes
cleanup-content      unix n - n - 0 cleanup -o message_reject_characters=\0 -o body_checks=regexp:$config_directory/long-lines
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
cat >"$etc/long-lines" <<'CF'
/^.{999}/ REJECT 5.6.0 Text line longer than 998 octets (RFC 5321 section 4.5.3.1.6)
CF
cat >"$etc/main.cf" <<CF
# written by tests/peers/postfix-8bit.sh
compatibility_level = 3.7
queue_directory = $root/spool
data_directory = $root/data
multi_instance_name = postfix-8bit
syslog_name = postfix-8bit
maillog_file = $root/log/postfix.log
myhostname = mx.eightbit.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.254/32
alias_maps =
alias_database =
biff = no
smtp_dns_support_level = disabled
virtual_mailbox_domains = eightbit.test
virtual_mailbox_base = $root/mail
virtual_mailbox_maps = inline:{ alice@eightbit.test=eightbit.test/alice/, postmaster@eightbit.test=eightbit.test/postmaster/ }
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000
virtual_minimum_uid = 100
CF
postfix -c "$etc" check
postfix -c "$etc" start >/dev/null
for _ in $(seq 100); do
    if (exec 3<>/dev/tcp/127.0.1.146/25) 2>/dev/null && (exec 3<>/dev/tcp/127.0.1.147/25) 2>/dev/null && (exec 3<>/dev/tcp/127.0.1.148/25) 2>/dev/null; then
        echo "postfix 8-bit peers listening on 127.0.1.146:25, 127.0.1.147:25 and 127.0.1.148:25"
        exit 0
    fi
    sleep 0.1
done
echo "postfix-8bit.sh: postfix did not start listening (see $root/log/postfix.log)" >&2
exit 1
