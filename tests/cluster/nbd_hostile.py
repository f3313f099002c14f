#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A raw-socket NBD client that misbehaves, for basalt-nbd's tests.

Usage: nbd_hostile.py URI EXPORT [--size BYTES]

URI is nbd://HOST:PORT[/...] or nbd+unix:///...?socket=PATH ($uri of
basalt-nbd --run).  Each case sends something a hostile or broken client
would (garbage, unknown options and commands, ranges past the end,
oversized lengths, a client that vanishes mid-request) and checks that the
server answers with the protocol's error or closes that one connection,
and that a well-behaved client on another connection is served
throughout.  Exits 0 if every case passed, 1 otherwise.
"""
import socket
import struct
import sys
import time
import urllib.parse

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x3E889045565A9
REQ_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
CHUNK_MAGIC = 0x668E33EF

OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_INFO, OPT_GO = 1, 2, 3, 6, 7
OPT_STRUCTURED, OPT_LIST_META, OPT_SET_META = 8, 9, 10
REP_ACK, REP_SERVER, REP_INFO, REP_META = 1, 2, 3, 4
ERR = 1 << 31
REP_ERR_UNSUP, REP_ERR_INVALID, REP_ERR_UNKNOWN = ERR + 1, ERR + 3, ERR + 6
REP_ERR_TOO_BIG = ERR + 9
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM = 0, 1, 2, 3, 4
CMD_WRITE_ZEROES, CMD_BLOCK_STATUS = 6, 7
FLAG_FUA, FLAG_NO_HOLE, FLAG_DF, FLAG_REQ_ONE = 1, 2, 4, 8
EPERM, EIO, EINVAL, ENOSPC = 1, 5, 22, 28
TIMEOUT = 10.0


class Closed(Exception):
    pass


def parse_uri(uri):
    u = urllib.parse.urlparse(uri)
    if u.scheme == "nbd+unix":
        q = urllib.parse.parse_qs(u.query)
        return (socket.AF_UNIX, q["socket"][0])
    return (socket.AF_INET, (u.hostname, u.port))


class Client:
    def __init__(self, addr):
        fam, a = addr
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(a)

    def close(self):
        self.s.close()

    def send(self, b):
        self.s.sendall(b)

    def recv(self, n):
        out = b""
        while len(out) < n:
            try:
                c = self.s.recv(n - len(out))
            except ConnectionResetError:
                raise Closed()
            if not c:
                raise Closed()
            out += c
        return out

    def closed_by_server(self):
        """True if the server closes the connection (EOF) in time."""
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    # handshake
    def greet(self, flags=3):
        magic, opt, hflags = struct.unpack(">QQH", self.recv(18))
        assert magic == NBDMAGIC and opt == IHAVEOPT, "bad greeting"
        assert hflags & 1, "not fixed newstyle"
        self.send(struct.pack(">I", flags))

    def opt(self, option, data=b""):
        self.send(struct.pack(">QII", IHAVEOPT, option, len(data)) + data)

    def reply(self):
        magic, option, rtype, length = struct.unpack(">QIII", self.recv(20))
        assert magic == REP_MAGIC, "bad option reply magic"
        return option, rtype, self.recv(length)

    def replies(self, option):
        """All replies to @option up to the final ACK or error."""
        out = []
        while True:
            o, t, d = self.reply()
            assert o == option, "reply for option %d, expected %d" % (o, option)
            out.append((t, d))
            if t == REP_ACK or t & ERR:
                return out

    def go(self, name, structured=False, meta=False):
        if structured:
            self.opt(OPT_STRUCTURED)
            assert self.replies(OPT_STRUCTURED)[-1][0] == REP_ACK
        if meta:
            q = b"base:allocation"
            self.opt(OPT_SET_META, struct.pack(">I", len(name)) + name +
                     struct.pack(">II", 1, len(q)) + q)
            r = self.replies(OPT_SET_META)
            assert r[-1][0] == REP_ACK and r[0][0] == REP_META, r
            self.ctx = struct.unpack(">I", r[0][1][:4])[0]
        self.opt(OPT_GO, struct.pack(">I", len(name)) + name +
                 struct.pack(">HH", 1, 3))
        size = None
        for t, d in self.replies(OPT_GO):
            if t == REP_INFO and struct.unpack(">H", d[:2])[0] == 0:
                size, flags = struct.unpack(">QH", d[2:12])
            elif t & ERR:
                return t
        self.size, self.eflags, self.structured = size, flags, structured
        return REP_ACK

    # transmission
    def request(self, cmd, off, length, flags=0, handle=1, data=b""):
        self.send(struct.pack(">IHHQQI", REQ_MAGIC, flags, cmd, handle,
                              off, length) + data)

    def simple_reply(self, readlen=0):
        magic, err, handle = struct.unpack(">IIQ", self.recv(16))
        assert magic == SIMPLE_MAGIC, "bad reply magic %x" % magic
        data = self.recv(readlen) if err == 0 and readlen else b""
        return err, handle, data

    def chunks(self):
        """Structured chunks of one reply: list of (type, payload)."""
        out = []
        while True:
            magic, flags, typ, handle, length = struct.unpack(
                ">IHHQI", self.recv(20))
            if magic == SIMPLE_MAGIC:  # simple reply allowed w/o payload
                return [("simple", struct.unpack(">I", struct.pack(
                    ">H", flags) + struct.pack(">H", typ))[0])]
            assert magic == CHUNK_MAGIC, "bad chunk magic %x" % magic
            out.append((typ, self.recv(length)))
            if flags & 1:
                return out


failures = []


def case(name):
    """Decorator: run the case at once and record its result."""
    def wrap(fn):
        start = time.monotonic()
        try:
            fn()
            print("ok   %s (%.2fs)" % (name, time.monotonic() - start))
        except Exception as e:  # noqa: BLE001 - report every failure
            print("FAIL %s: %r" % (name, e))
            failures.append(name)
        return fn
    return wrap


def good_client_works(addr, export):
    """A well-behaved client: GO, write, read back, check."""
    c = Client(addr)
    c.greet()
    assert c.go(export) == REP_ACK, "GO failed"
    pat = bytes((i * 7 + 3) & 0xFF for i in range(4096))
    c.request(CMD_WRITE, 8192, 4096, handle=11, data=pat)
    err, h, _ = c.simple_reply()
    assert err == 0 and h == 11, "write failed: %d" % err
    c.request(CMD_READ, 8192, 4096, handle=12)
    err, h, data = c.simple_reply(4096)
    assert err == 0 and h == 12 and data == pat, "read back differs"
    c.request(CMD_DISC, 0, 0)
    c.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    addr = parse_uri(sys.argv[1])
    export = sys.argv[2].encode()

    # A client that stays connected and is served between every case.
    keeper = Client(addr)
    keeper.greet()
    assert keeper.go(export) == REP_ACK
    kh = [100]

    def keeper_ok():
        kh[0] += 1
        keeper.request(CMD_READ, 0, 512, handle=kh[0])
        err, h, data = keeper.simple_reply(512)
        assert err == 0 and h == kh[0] and len(data) == 512, "keeper"

    @case("garbage instead of client flags closes the connection")
    def _():
        c = Client(addr)
        c.recv(18)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.closed_by_server()

    @case("garbage option magic closes the connection")
    def _():
        c = Client(addr)
        c.greet()
        c.send(b"\xff" * 16)
        assert c.closed_by_server()

    @case("unknown option gets NBD_REP_ERR_UNSUP, then GO works")
    def _():
        c = Client(addr)
        c.greet()
        c.opt(0x4242, b"hello")
        r = c.replies(0x4242)
        assert r[-1][0] == REP_ERR_UNSUP, r
        c.opt(11)  # NBD_OPT_EXTENDED_HEADERS: not supported
        assert c.replies(11)[-1][0] == REP_ERR_UNSUP
        assert c.go(export) == REP_ACK
        c.close()

    @case("unknown export gets NBD_REP_ERR_UNKNOWN, then LIST works")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(b"nopool/novolume") == REP_ERR_UNKNOWN
        assert c.go(b"not a name") == REP_ERR_UNKNOWN
        c.opt(OPT_LIST)
        r = c.replies(OPT_LIST)
        assert r[-1][0] == REP_ACK
        names = [d[4:4 + struct.unpack(">I", d[:4])[0]]
                 for t, d in r if t == REP_SERVER]
        assert export in names, names
        c.opt(OPT_LIST, b"x")
        assert c.replies(OPT_LIST)[-1][0] == REP_ERR_INVALID
        c.opt(OPT_ABORT)
        assert c.replies(OPT_ABORT)[-1][0] == REP_ACK
        assert c.closed_by_server()

    @case("malformed GO data gets NBD_REP_ERR_INVALID")
    def _():
        c = Client(addr)
        c.greet()
        c.opt(OPT_GO, struct.pack(">I", 1000) + b"abc")
        assert c.replies(OPT_GO)[-1][0] == REP_ERR_INVALID
        c.opt(OPT_GO, b"\x00")
        assert c.replies(OPT_GO)[-1][0] == REP_ERR_INVALID
        c.opt(OPT_SET_META, b"")  # before structured replies
        assert c.replies(OPT_SET_META)[-1][0] == REP_ERR_INVALID
        assert c.go(export) == REP_ACK
        c.close()

    @case("over-long options are skipped and refused")
    def _():
        c = Client(addr)
        c.greet()
        c.opt(0x4243, b"z" * 200000)
        assert c.replies(0x4243)[-1][0] == REP_ERR_UNSUP
        c.opt(OPT_GO, b"z" * 100000)
        assert c.replies(OPT_GO)[-1][0] == REP_ERR_TOO_BIG
        assert c.go(export) == REP_ACK
        c.close()

    @case("an option of 4 GiB closes the connection")
    def _():
        c = Client(addr)
        c.greet()
        c.send(struct.pack(">QII", IHAVEOPT, OPT_GO, 0xFFFFFFFF) + b"x" * 64)
        assert c.closed_by_server()

    @case("NBD_OPT_EXPORT_NAME of an unknown export closes")
    def _():
        c = Client(addr)
        c.greet()
        c.opt(OPT_EXPORT_NAME, b"nopool/nothing")
        assert c.closed_by_server()

    @case("NBD_OPT_EXPORT_NAME works (with zero padding)")
    def _():
        c = Client(addr)
        c.greet(flags=1)
        c.opt(OPT_EXPORT_NAME, export)
        size, flags = struct.unpack(">QH", c.recv(10))
        assert c.recv(124) == b"\0" * 124
        assert size > 0 and flags & 1
        c.request(CMD_READ, 0, 512, handle=5)
        err, h, data = c.simple_reply(512)
        assert err == 0 and h == 5 and len(data) == 512
        c.close()

    keeper_ok()

    @case("bad request magic closes the connection")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export) == REP_ACK
        c.send(struct.pack(">IHHQQI", 0x12345678, 0, 0, 1, 0, 512))
        assert c.closed_by_server()

    @case("unknown command and flags get NBD_EINVAL and go on")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export) == REP_ACK
        c.request(99, 0, 512, handle=1)
        assert c.simple_reply() == (EINVAL, 1, b"")
        c.request(CMD_READ, 0, 512, flags=0x100, handle=2)
        assert c.simple_reply() == (EINVAL, 2, b"")
        c.request(CMD_FLUSH, 4096, 0, handle=3)
        assert c.simple_reply() == (EINVAL, 3, b"")
        c.request(CMD_BLOCK_STATUS, 0, 512, handle=4)  # no meta context
        assert c.simple_reply() == (EINVAL, 4, b"")
        c.request(CMD_READ, 0, 512, handle=5)
        err, h, d = c.simple_reply(512)
        assert err == 0 and h == 5 and len(d) == 512
        c.close()

    @case("requests past the end get NBD_EINVAL / NBD_ENOSPC")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export) == REP_ACK
        c.request(CMD_READ, c.size - 256, 512, handle=1)
        assert c.simple_reply() == (EINVAL, 1, b"")
        # the payload of a refused WRITE is skipped: the stream stays in step
        c.request(CMD_WRITE, c.size, 4096, handle=2, data=b"\xee" * 4096)
        assert c.simple_reply() == (ENOSPC, 2, b"")
        c.request(CMD_TRIM, 2**64 - 512, 1024, handle=3)
        assert c.simple_reply() == (EINVAL, 3, b"")
        c.request(CMD_WRITE_ZEROES, c.size - 1, 2, handle=4)
        assert c.simple_reply() == (ENOSPC, 4, b"")
        c.request(CMD_READ, c.size - 512, 512, handle=5)
        err, h, d = c.simple_reply(512)
        assert err == 0 and h == 5
        c.close()

    @case("READ over the maximum block size gets NBD_EINVAL")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export) == REP_ACK
        c.request(CMD_READ, 0, 32 * 1024 * 1024 + 1, handle=1)
        assert c.simple_reply() == (EINVAL, 1, b"")
        c.close()

    @case("WRITE over the maximum block size closes the connection")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export) == REP_ACK
        c.request(CMD_WRITE, 0, 0x7FFFFFFF, handle=1, data=b"x" * 65536)
        assert c.closed_by_server()

    @case("structured replies: errors as chunks, READ as one chunk")
    def _():
        c = Client(addr)
        c.greet()
        assert c.go(export, structured=True, meta=True) == REP_ACK
        c.request(CMD_READ, c.size, 512, handle=1)
        ch = c.chunks()
        assert len(ch) == 1 and ch[0][0] == 0x8001, ch
        assert struct.unpack(">I", ch[0][1][:4])[0] == EINVAL
        c.request(CMD_READ, 4096, 4096, flags=FLAG_DF, handle=2)
        ch = c.chunks()
        assert len(ch) == 1 and ch[0][0] == 1 and len(ch[0][1]) == 8 + 4096
        assert struct.unpack(">Q", ch[0][1][:8])[0] == 4096
        c.request(CMD_BLOCK_STATUS, 0, c.size, flags=FLAG_REQ_ONE, handle=3)
        ch = c.chunks()
        assert len(ch) == 1 and ch[0][0] == 5, ch
        ctx, length, status = struct.unpack(">III", ch[0][1])
        assert ctx == c.ctx and 0 < length <= c.size
        c.close()

    @case("a client vanishing mid-request does not disturb others")
    def _():
        for n in (10, 28 + 100):
            c = Client(addr)
            c.greet()
            assert c.go(export) == REP_ACK
            hdr = struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_WRITE, 1, 0, 4096)
            c.send((hdr + b"\x55" * 4096)[:n])
            c.close()
        c = Client(addr)
        c.greet()
        c.send(struct.pack(">QII", IHAVEOPT, OPT_GO, 50) + b"\0\0")
        c.close()
        keeper_ok()

    @case("many connections at once, many requests in flight each")
    def _():
        cs = []
        for i in range(32):
            c = Client(addr)
            c.greet()
            assert c.go(export) == REP_ACK
            cs.append(c)
        for i, c in enumerate(cs):
            for h in range(16):
                c.request(CMD_READ, (h * 4096) % (c.size - 4096), 4096,
                          handle=h)
        for c in cs:
            got = set()
            for h in range(16):
                err, hh, d = c.simple_reply(4096)
                assert err == 0 and len(d) == 4096
                got.add(hh)
            assert got == set(range(16))
            c.request(CMD_DISC, 0, 0)
            c.close()

    keeper_ok()

    @case("a good client is served after all of that")
    def _():
        good_client_works(addr, export)

    keeper.request(CMD_DISC, 0, 0)
    keeper.close()
    if failures:
        print("%d case(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
