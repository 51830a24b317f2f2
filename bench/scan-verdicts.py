#!/usr/bin/env python3
"""bench/scan.sh helper: per listener kind on the slice, portcullis's verdicts and what nmap's scripts call open."""
import collections
import ipaddress
import json
import re
import sys

out, net = sys.argv[1], ipaddress.ip_network(sys.argv[2])
kinds = {}
for line in open(out + "/listeners.txt"):
    a, p, k = line.split()
    if ipaddress.ip_address(a) in net:
        kinds[(a, int(p))] = k
pc = collections.Counter()
for line in open(out + "/scan20.jsonl"):
    o = json.loads(line)
    if o["type"] == "report":
        r = o["report"]
        pc[(kinds.get((r["address"], r["checks"][0]["port"]), "?"), r["verdict"])] += 1
nm = collections.Counter()
host = port = None
for line in open(out + "/nmap-scripts.txt"):
    m = re.match(r"Nmap scan report for (\S+)", line)
    if m:
        host = m.group(1)
    m = re.match(r"(\d+)/tcp\s+open", line)
    if m:
        port = int(m.group(1))
    if "Potentially OPEN proxy" in line or "Server is an open relay" in line:
        nm[kinds.get((host, port), "?")] += 1
print("| listener kind | count | portcullis verdicts | nmap scripts say open |")
print("|---|---|---|---|")
for k, n in sorted(collections.Counter(kinds.values()).items()):
    v = ", ".join("%s %d" % (verdict, c) for (kk, verdict), c in sorted(pc.items()) if kk == k)
    print("| %s | %d | %s | %d |" % (k, n, v, nm.get(k, 0)))
