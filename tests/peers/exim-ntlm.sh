#!/usr/bin/env bash
# Prepares a real Exim 4.96 that offers AUTH NTLM, for the auditor's NTLM information-leak check
# (catalog §4; tests/EndToEnd/Audit/SmtpAuditNtlmTests.cs starts and stops the daemon itself).
#
# Debian's exim4-daemon-light has no NTLM; exim4-daemon-heavy has the spa and cyrus_sasl
# authenticators. It conflicts with postfix as a package, so it is unpacked with dpkg -x (as
# ../shared/peers/relay-peers.sh does for the light daemon). Its libraries come from
# tests/deps/audit-smtp.txt (libidn12, libmariadb3, libspf2-2, libsasl2-modules for Cyrus's NTLM plugin).
#
# The authenticator is cyrus_sasl with server_mech = ntlm: Cyrus's NTLM CHALLENGE carries the
# server's host name as TargetName (what the check must find). Exim's own spa authenticator sends an
# empty one. Nothing here listens beyond 127.0.1.140:25; no mail is delivered anywhere.
#
# Usage: exim-ntlm.sh start ROOT | stop ROOT. Needs root. The daemon's pid is in ROOT/daemon.pid.
set -euo pipefail
action=${1:?usage: exim-ntlm.sh start|stop ROOT}
root=${2:-/var/lib/portcullis-tests/exim-ntlm}
if [ "$action" = stop ]; then
    # Only the daemon this script started, by its recorded pid, after checking it is that exim.
    if [ -f "$root/daemon.pid" ]; then
        pid=$(cat "$root/daemon.pid")
        if grep -q "exim-ntlm" "/proc/$pid/cmdline" 2>/dev/null || grep -q "$root" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$root/daemon.pid"
    fi
    exit 0
fi
pkg=$root/pkg
mkdir -p "$pkg" "$root/spool" "$root/log"
bin=$pkg/exim/usr/sbin/exim4
if [ ! -x "$bin" ]; then
    (cd "$pkg" && rm -f exim4-daemon-heavy_*.deb && apt-get download exim4-daemon-heavy >/dev/null 2>&1)
    rm -rf "$pkg/exim"
    dpkg -x "$pkg"/exim4-daemon-heavy_*.deb "$pkg/exim"
fi
if ldd "$bin" | grep -q "not found"; then
    echo "exim-ntlm.sh: libraries missing for $bin (install tests/deps/audit-smtp.txt):" >&2
    ldd "$bin" | grep "not found" >&2
    exit 1
fi
# The Debian binary has EXIM_USER=Debian-exim compiled in and looks it up at start.
getent group Debian-exim >/dev/null || groupadd -r Debian-exim
getent passwd Debian-exim >/dev/null || useradd -r -g Debian-exim -d /var/spool/exim4 -s /usr/sbin/nologin -M Debian-exim
chown Debian-exim:Debian-exim "$root/spool" "$root/log"
cat >"$root/exim.conf" <<CONF
# written by tests/peers/exim-ntlm.sh: a closed server that offers AUTH NTLM in clear
primary_hostname = mx.ntlm.test
exim_path = $bin
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
local_interfaces = <; 127.0.1.140.25
spool_directory = $root/spool
log_file_path = $root/log/%s.log
pid_file_path = $root/exim.pid
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
keep_environment =
domainlist local_domains = ntlm.test : mx.ntlm.test
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept  local_parts = postmaster
          domains = +local_domains
  deny    message = relay not permitted

begin authenticators
ntlm:
  driver = cyrus_sasl
  public_name = NTLM
  server_mech = ntlm
  server_hostname = mx.ntlm.test
CONF
chmod 644 "$root/exim.conf"
"$bin" -C "$root/exim.conf" -bV >/dev/null
setsid "$bin" -C "$root/exim.conf" -bdf >>"$root/daemon.log" 2>&1 </dev/null &
echo $! >"$root/daemon.pid"
for _ in $(seq 100); do
    if (exec 3<>/dev/tcp/127.0.1.140/25) 2>/dev/null; then
        echo "exim with AUTH NTLM listening on 127.0.1.140:25 (pid $(cat "$root/daemon.pid"))"
        exit 0
    fi
    sleep 0.1
done
echo "exim-ntlm.sh: exim did not start listening on 127.0.1.140:25 (see $root/daemon.log, $root/log/)" >&2
exit 1
