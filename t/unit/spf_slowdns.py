#!/usr/bin/env python3
"""spf_slowdns.py - a deliberately slow DNS server on loopback for
t/unit/test_spf_limits (the SPF time budget and concurrency cap).

UDP on 127.0.0.1, the first free port of 13200-13249, printed on stdout
as "PORT n" once bound.  Only TXT, only the names below:

  slowN.example   answers after DELAY seconds: "include:slow(N+1)",
                  up to slow8, whose record authorizes 192.0.2.25
  halfN.example   the same, a chain of three (half0 .. half2)
  holdN.example   held until "release.ctl" is asked (or HOLD_MAX
                  seconds pass), then authorizes 192.0.2.25
  free.example    answered at once, authorizes 192.0.2.25
  pending.ctl     answered at once: how many distinct hold names wait
  release.ctl     answered at once; releases every held query

Anything else is NXDOMAIN.  The server exits when stdin closes (its
parent died or finished) or after LIFETIME seconds, whichever is first.
"""
import socket
import struct
import sys
import threading
import time

DELAY = 1.2
HOLD_MAX = 8.0
LIFETIME = 120.0
PASS = "v=spf1 ip4:192.0.2.25 -all"

lock = threading.Lock()
held = set()
release = threading.Event()


def record(name):
    """(delay, txt) for a name, or None for NXDOMAIN; delay -1: hold."""
    for prefix, last in (("slow", 8), ("half", 2)):
        if name.startswith(prefix) and name.endswith(".example"):
            num = name[len(prefix):-len(".example")]
            if not num.isdigit() or int(num) > last:
                return None
            n = int(num)
            if n == last:
                return DELAY, PASS
            return DELAY, "v=spf1 include:%s%d.example -all" % (prefix, n + 1)
    if name.startswith("hold") and name.endswith(".example"):
        return -1, PASS
    if name == "free.example":
        return 0, PASS
    if name == "pending.ctl":
        with lock:
            return 0, str(len(held))
    if name == "release.ctl":
        release.set()
        return 0, "released"
    return None


def question(msg):
    """(end offset of the question, lower-case name, qtype) or None."""
    pos, labels = 12, []
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            break
        if n > 63:
            return None
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos + 1:pos + 3])[0]
    return pos + 5, ".".join(labels).lower(), qtype


def reply(msg, end, rcode, txt):
    head = struct.pack("!HHHHHH", struct.unpack("!H", msg[:2])[0],
                       0x8180 | rcode, 1, 1 if txt is not None else 0, 0, 0)
    out = head + msg[12:end]
    if txt is not None:
        data = txt.encode("ascii")
        rdata = bytes([len(data)]) + data
        out += struct.pack("!HHHIH", 0xC00C, 16, 1, 300, len(rdata)) + rdata
    return out


def answer(sock, msg, peer):
    q = question(msg)
    if q is None:
        return
    end, name, qtype = q
    rec = record(name)
    if rec is None:
        sock.sendto(reply(msg, end, 3, None), peer)
        return
    delay, txt = rec
    if delay < 0:
        with lock:
            held.add(name)
        release.wait(HOLD_MAX)
        with lock:
            held.discard(name)
    elif delay > 0:
        time.sleep(delay)
    sock.sendto(reply(msg, end, 0, txt if qtype == 16 else None), peer)


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port in range(13200, 13250):
        try:
            sock.bind(("127.0.0.1", port))
            break
        except OSError:
            continue
    else:
        print("NOPORT", flush=True)
        return 1
    print("PORT %d" % port, flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), sock.close()),
                     daemon=True).start()
    deadline = time.monotonic() + LIFETIME
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            msg, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if len(msg) >= 12:
            threading.Thread(target=answer, args=(sock, msg, peer),
                             daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
