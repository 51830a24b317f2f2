#!/usr/bin/env python3
"""Listeners for bench/scan.sh: about 1,000 SMTP servers and proxies on addresses spread over 127.16.0.0/16,
served by one asyncio process (loopback only).

  scan-listeners.py COUNT LISTFILE

Kinds (each listener is one address:port):
  smtp-closed   :25    greets, RCPT -> 554 (most SMTP listeners)
  smtp-candidate :25   greets, RCPT -> 250 (a relay candidate; never takes DATA)
  socks-closed  :1080  SOCKS5 greeting -> 05 FF, SOCKS4 -> 00 5B
  socks-open    :1080  a REAL SOCKS5 proxy (no auth) that relays to 127.0.0.0/8 only
  http-closed   :3128/:8080  403 to every request
  http-trap     :8080  "HTTP/1.0 200 Connection established" and nothing relayed
  http-open     :3128  a REAL HTTP proxy (CONNECT and absolute-URI GET/POST) that relays to 127.0.0.0/8 only
Writes "addr port kind" lines to LISTFILE, then prints "ready".
"""
import asyncio
import random
import resource
import sys

OPEN_EACH = 10


def layout(count):
    rng = random.Random(5)
    # offsets inside 127.16.0.0/16, never .0.0 or the last two (the scan's canary lives at 127.16.255.254)
    offsets = rng.sample(range(1, 65534), count)
    # two of each truly open kind go inside 127.16.0.0/20, the slice nmap scans, so both tools meet them
    inside = [o for o in rng.sample(range(1, 4096), 40) if o not in offsets][:6]
    quarter = count // 4
    for n, o in enumerate(inside):
        offsets[(n // 2) * quarter + (n % 2)] = o
    quarter = count // 4
    rows = []
    for i, off in enumerate(offsets):
        addr = "127.16.%d.%d" % (off >> 8, off & 255)
        group, k = divmod(i, quarter) if i < quarter * 4 else (0, quarter)
        if group == 0:
            rows.append((addr, 25, "smtp-candidate" if k < OPEN_EACH else "smtp-closed"))
        elif group == 1:
            rows.append((addr, 1080, "socks-open" if k < OPEN_EACH else "socks-closed"))
        elif group == 2:
            rows.append((addr, 3128, "http-open" if k < OPEN_EACH else "http-closed"))
        else:
            rows.append((addr, 8080, "http-trap" if k % 2 else "http-closed"))
    return rows


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def relay(cr, cw, host, port, first=b"", reply=b""):
    if not host.startswith("127."):
        return False
    try:
        ur, uw = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
    except (OSError, asyncio.TimeoutError):
        return False
    if reply:
        cw.write(reply)
        await cw.drain()
    if first:
        uw.write(first)
    await asyncio.gather(pump(cr, uw), pump(ur, cw))
    return True


async def smtp(reader, writer, rcpt):
    writer.write(b"220 bench-smtp.test ESMTP scan bench\r\n")
    while True:
        line = await reader.readline()
        if not line:
            return
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-bench-smtp.test\r\n250 8BITMIME\r\n")
        elif verb in (b"HELO", b"MAIL", b"RSET", b"NOOP"):
            writer.write(b"250 2.0.0 ok\r\n")
        elif verb == b"RCPT":
            writer.write(rcpt)
        elif verb == b"QUIT":
            writer.write(b"221 2.0.0 bye\r\n")
            await writer.drain()
            return
        else:
            writer.write(b"502 5.5.2 no\r\n")
        await writer.drain()


async def socks(reader, writer, open_):
    head = await reader.read(2)
    if len(head) < 2:
        return
    if head[0] == 4:
        writer.write(b"\x00\x5b\x00\x00\x00\x00\x00\x00")
        return
    if head[0] != 5:
        return
    await reader.read(head[1])
    if not open_:
        writer.write(b"\x05\xff")
        return
    writer.write(b"\x05\x00")
    await writer.drain()
    req = await reader.readexactly(10)
    if req[1] != 1 or req[3] != 1:
        writer.write(b"\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00")
        return
    host = ".".join(str(b) for b in req[4:8])
    port = int.from_bytes(req[8:10], "big")
    ok = await relay(reader, writer, host, port, reply=b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
    if not ok:
        writer.write(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")


async def read_head(reader):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 8192:
        chunk = await reader.read(4096)
        if not chunk:
            break
        data += chunk
    return data


async def http(reader, writer, kind):
    data = await read_head(reader)
    if not data:
        return
    if kind == "http-closed":
        writer.write(b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return
    if kind == "http-trap":
        writer.write(b"HTTP/1.0 200 Connection established\r\n\r\n")
        await writer.drain()
        await reader.read(4096)
        return
    line, _, rest = data.partition(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        return
    method, target = parts[0], parts[1].decode("latin-1")
    if method == b"CONNECT":
        host, _, port = target.rpartition(":")
        if not await relay(reader, writer, host, int(port), reply=b"HTTP/1.0 200 Connection established\r\n\r\n"):
            writer.write(b"HTTP/1.0 502 Bad Gateway\r\n\r\n")
        return
    if target.startswith("http://"):
        hostport, _, path = target[7:].partition("/")
        host, _, port = hostport.partition(":")
        headers_and_body = rest
        fwd = b"%s /%s HTTP/1.0\r\n%s" % (method, path.encode(), headers_and_body)
        if not await relay(reader, writer, host, int(port or 80), first=fwd):
            writer.write(b"HTTP/1.0 502 Bad Gateway\r\n\r\n")
        return
    writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")


def handler(kind):
    async def handle(reader, writer):
        try:
            if kind.startswith("smtp"):
                await smtp(reader, writer, b"250 2.1.5 ok\r\n" if kind == "smtp-candidate" else b"554 5.7.1 relay access denied\r\n")
            elif kind.startswith("socks"):
                await socks(reader, writer, kind == "socks-open")
            else:
                await http(reader, writer, kind)
            await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass
    return handle


async def main():
    count, listfile = int(sys.argv[1]), sys.argv[2]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    rows = layout(count)
    servers = []
    for addr, port, kind in rows:
        servers.append(await asyncio.start_server(handler(kind), addr, port, backlog=1024, reuse_address=True))
    with open(listfile, "w") as f:
        for addr, port, kind in rows:
            f.write("%s %d %s\n" % (addr, port, kind))
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
