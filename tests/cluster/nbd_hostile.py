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
import struct
import sys
import time

from nbd_client import (CMD_BLOCK_STATUS, CMD_DISC, CMD_FLUSH, CMD_READ,
                        CMD_TRIM, CMD_WRITE, CMD_WRITE_ZEROES, EINVAL,
                        ENOSPC, FLAG_DF, FLAG_REQ_ONE, IHAVEOPT, OPT_ABORT,
                        OPT_EXPORT_NAME, OPT_GO, OPT_LIST, OPT_SET_META,
                        REP_ACK, REP_ERR_INVALID, REP_ERR_TOO_BIG,
                        REP_ERR_UNKNOWN, REP_ERR_UNSUP, REP_SERVER,
                        REQ_MAGIC, Client, parse_uri)


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
