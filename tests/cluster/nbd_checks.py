#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks of basalt-nbd that need a raw-socket client (nbd_client.py), for
tests/cluster/test_nbd_multiconn.sh.  Each subcommand prints what it saw
and exits 0 if the check held, 1 (with the reason) if not.

  flush-durable URI EXPORT DATA PID...
      Two connections to EXPORT, both advertising NBD_FLAG_CAN_MULTI_CONN.
      Writes on connection A (first all answered, then a batch still in
      flight, proved submitted by the reply to a READ sent after them),
      then a FLUSH on connection B; as soon as B's flush is answered,
      SIGKILL every PID (the server and the OSDs).  The bytes written,
      from offset 0, go to the file DATA for "verify".
  verify URI EXPORT DATA
      EXPORT reads back as DATA from offset 0.
  read-only URI EXPORT DATA
      The export is read-only (flags HAS_FLAGS, READ_ONLY, SEND_FLUSH and
      CAN_MULTI_CONN only):
      WRITE, TRIM and WRITE_ZEROES get NBD_EPERM (a WRITE with the FUA
      flag, not advertised, NBD_EINVAL) and the connection stays in
      step; FLUSH succeeds; it still reads as DATA.
  exports URI VISIBLE HIDDEN
      NBD_OPT_LIST names exactly the exports of the comma-separated
      VISIBLE; each of them opens, each of HIDDEN (existing volumes) and
      the empty name (with more than one export) get NBD_REP_ERR_UNKNOWN.
  handshake-timeout URI EXPORT SECONDS
      Clients that stop in the handshake (silent, after the flags, after
      an option) are closed after about SECONDS; one that selected the
      export and then idles longer than that is still served.
  max-connections URI EXPORT N
      With N clients connected the next one is closed at once; once one
      leaves, a new one is served.
"""
import os
import signal
import struct
import sys
import time

from nbd_client import (CMD_FLUSH, CMD_READ, CMD_TRIM, CMD_WRITE,
                        CMD_WRITE_ZEROES, EINVAL, EPERM, F_CAN_MULTI_CONN,
                        F_HAS_FLAGS, F_READ_ONLY, F_SEND_FLUSH, OPT_LIST,
                        REP_ERR_UNKNOWN, SIMPLE_MAGIC, Client, connect,
                        parse_uri)

CHUNK = 64 * 1024


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def flush_durable(uri, export, data_path, pids):
    a = connect(uri, export)
    b = connect(uri, export)
    for name, c in (("A", a), ("B", b)):
        check(c.eflags & F_CAN_MULTI_CONN,
              "connection %s: NBD_FLAG_CAN_MULTI_CONN not advertised "
              "(flags 0x%x)" % (name, c.eflags))
        check(c.eflags & F_SEND_FLUSH, "no NBD_FLAG_SEND_FLUSH")
    print("both connections advertise CAN_MULTI_CONN (flags 0x%x)" %
          a.eflags)
    data = os.urandom(144 * CHUNK)

    # 1. 16 writes on A, every one answered; then a flush on B
    for i in range(16):
        a.request(CMD_WRITE, i * CHUNK, CHUNK, handle=i,
                  data=data[i * CHUNK:(i + 1) * CHUNK])
    for _ in range(16):
        err, h, _d = a.simple_reply()
        check(err == 0, "write %d on A failed: %d" % (h, err))
    check(b.flush(handle=1000) == 0, "flush on B failed")
    print("16 writes answered on A, then flushed on B")

    # 2. 128 writes on A, a READ behind them; its reply proves that the
    # server has read (and submitted) every write before it
    for i in range(16, 144):
        a.request(CMD_WRITE, i * CHUNK, CHUNK, handle=i,
                  data=data[i * CHUNK:(i + 1) * CHUNK])
    marker = 999
    a.request(CMD_READ, 32 << 20, 512, handle=marker)
    answered = set()
    while True:
        magic, err, h = struct.unpack(">IIQ", a.recv(16))
        check(magic == SIMPLE_MAGIC, "bad reply magic on A")
        check(err == 0, "request %d on A failed: %d" % (h, err))
        if h == marker:
            a.recv(512)
            break
        answered.add(h)
    before = 128 - len(answered)
    # 3. a flush on B must cover them all: answered only once every one
    # of them is durable.  Then kill the server and the OSDs at once.
    b.request(CMD_FLUSH, 0, 0, handle=1001)
    err, h, _d = b.simple_reply()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    check(h == 1001 and err == 0, "flush on B: error %d" % err)
    with open(data_path, "wb") as f:
        f.write(data)
    print("128 writes on A, %d of them not yet answered when the flush "
          "was sent on B; flush answered; killed %s" %
          (before, " ".join(map(str, pids))))
    return 0


def verify(uri, export, data_path):
    want = open(data_path, "rb").read()
    c = connect(uri, export)
    step = 1 << 20
    for off in range(0, len(want), step):
        got = c.read(off, min(step, len(want) - off), handle=off + 1)
        if got != want[off:off + len(got)]:
            i = next(i for i in range(len(got))
                     if got[i] != want[off + i])
            raise CheckFailed("byte %d differs from what was written "
                              "(and flushed)" % (off + i))
    c.disconnect()
    print("all %d bytes read back" % len(want))
    return 0


def read_only(uri, export, data_path):
    want = open(data_path, "rb").read(CHUNK)
    c = connect(uri, export)
    check(c.eflags == F_HAS_FLAGS | F_READ_ONLY | F_SEND_FLUSH |
          F_CAN_MULTI_CONN,
          "read-only export flags 0x%x" % c.eflags)
    check(c.write(0, b"\xee" * 4096, handle=1) == EPERM, "WRITE not EPERM")
    # FUA is not advertised on a read-only export: EINVAL, payload skipped
    check(c.write(4096, b"\xee" * 512, flags=1, handle=2) == EINVAL,
          "WRITE with FUA not EINVAL")
    check(c.cmd(CMD_TRIM, 0, CHUNK, handle=3) == EPERM, "TRIM not EPERM")
    check(c.cmd(CMD_WRITE_ZEROES, 0, CHUNK, handle=4) == EPERM,
          "WRITE_ZEROES not EPERM")
    check(c.flush(handle=5) == 0, "FLUSH failed")
    check(c.read(0, CHUNK, handle=6) == want,
          "data changed behind a read-only export")
    c.disconnect()
    print("read-only: flags 0x%x, writes refused with EPERM, data intact" %
          c.eflags)
    return 0


def exports(uri, visible, hidden):
    addr = parse_uri(uri)
    c = Client(addr)
    c.greet()
    names = c.list_exports()
    check(names == sorted(visible), "NBD_OPT_LIST: %s, expected %s" %
          (names, sorted(visible)))
    for name in hidden + [""]:
        r = c.go(name.encode())
        check(r == REP_ERR_UNKNOWN, "GO '%s': 0x%x, expected "
              "NBD_REP_ERR_UNKNOWN" % (name, r))
    c.close()
    for name in visible:
        connect(uri, name).disconnect()
    print("listed %s; refused %s and the empty name" % (names, hidden))
    return 0


def handshake_timeout(uri, export, seconds):
    addr = parse_uri(uri)
    t0 = time.monotonic()
    silent = Client(addr, timeout=seconds + 5)
    flags = Client(addr, timeout=seconds + 5)
    flags.greet()
    opt = Client(addr, timeout=seconds + 5)
    opt.greet()
    opt.opt(OPT_LIST)
    opt.replies(OPT_LIST)
    served = connect(uri, export)
    for name, c in (("silent", silent), ("after the flags", flags),
                    ("after an option", opt)):
        check(c.closed_by_server(), "client %s not closed within %ds" %
              (name, seconds + 5))
        t = time.monotonic() - t0
        check(t >= seconds * 0.8, "client %s closed after %.1fs already" %
              (name, t))
        print("client %s closed after %.1fs" % (name, t))
    time.sleep(1)
    check(len(served.read(0, 512)) == 512, "idle client not served")
    served.disconnect()
    print("a client in transmission idle for %.1fs is served" %
          (time.monotonic() - t0))
    return 0


def max_connections(uri, export, n):
    cs = [connect(uri, export) for _ in range(n)]
    extra = Client(parse_uri(uri), timeout=5)
    t0 = time.monotonic()
    check(extra.closed_by_server(), "client %d not refused" % (n + 1))
    check(time.monotonic() - t0 < 3, "client %d refused late" % (n + 1))
    extra.close()
    cs.pop().disconnect()
    deadline = time.monotonic() + 5
    while True:     # the server notices the disconnection in a moment
        try:
            cs.append(connect(uri, export))
            break
        except Exception:  # noqa: BLE001 - refused: retry
            check(time.monotonic() < deadline,
                  "no client served after one of %d left" % n)
            time.sleep(0.1)
    for c in cs:
        check(len(c.read(0, 512)) == 512, "a client is not served")
        c.disconnect()
    print("client %d refused; served again once one left" % (n + 1))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "flush-durable":
            return flush_durable(args[0], args[1], args[2],
                                 [int(p) for p in args[3:]])
        if cmd == "verify":
            return verify(args[0], args[1], args[2])
        if cmd == "read-only":
            return read_only(args[0], args[1], args[2])
        if cmd == "exports":
            return exports(args[0], args[1].split(","),
                           [n for n in args[2].split(",") if n])
        if cmd == "handshake-timeout":
            return handshake_timeout(args[0], args[1], float(args[2]))
        if cmd == "max-connections":
            return max_connections(args[0], args[1], int(args[2]))
    except (CheckFailed, AssertionError, OSError) as e:
        print("FAIL %s: %s" % (cmd, e))
        return 1
    print("unknown check '%s'" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
