# SPDX-License-Identifier: Apache-2.0
"""A small raw-socket NBD client for basalt-nbd's tests.

The protocol is the NBD project's doc/proto.md (fixed newstyle).  The
tests use it where real clients (qemu-io, nbdinfo) cannot say what they
need: the exact flags and replies, several connections in step, and
misbehaviour (nbd_hostile.py).  Import it from a script in this
directory: "from nbd_client import Client, parse_uri, ...".
"""
import socket
import struct
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

# transmission flags of an export
F_HAS_FLAGS, F_READ_ONLY, F_SEND_FLUSH, F_SEND_FUA = 1, 2, 4, 8
F_SEND_TRIM, F_SEND_WRITE_ZEROES, F_SEND_DF = 32, 64, 128
F_CAN_MULTI_CONN, F_SEND_FAST_ZERO = 256, 2048

EPERM, EIO, EINVAL, ENOSPC = 1, 5, 22, 28
TIMEOUT = 10.0


class Closed(Exception):
    """The server closed the connection."""


def parse_uri(uri):
    """(family, address) of nbd://HOST:PORT[/...] or
    nbd+unix:///...?socket=PATH."""
    u = urllib.parse.urlparse(uri)
    if u.scheme == "nbd+unix":
        q = urllib.parse.parse_qs(u.query)
        return (socket.AF_UNIX, q["socket"][0])
    return (socket.AF_INET, (u.hostname, u.port))


class Client:
    def __init__(self, addr, timeout=TIMEOUT):
        fam, a = addr
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(a)
        self.size = self.eflags = None
        self.structured = False

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

    # --- handshake ------------------------------------------------------
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
            assert o == option, \
                "reply for option %d, expected %d" % (o, option)
            out.append((t, d))
            if t == REP_ACK or t & ERR:
                return out

    def list_exports(self):
        """NBD_OPT_LIST: the export names, sorted."""
        self.opt(OPT_LIST)
        r = self.replies(OPT_LIST)
        assert r[-1][0] == REP_ACK, r[-1]
        return sorted(d[4:4 + struct.unpack(">I", d[:4])[0]].decode()
                      for t, d in r if t == REP_SERVER)

    def go(self, name, structured=False, meta=False):
        """NBD_OPT_GO; REP_ACK (size and eflags set) or the error."""
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
        size = flags = None
        for t, d in self.replies(OPT_GO):
            if t == REP_INFO and struct.unpack(">H", d[:2])[0] == 0:
                size, flags = struct.unpack(">QH", d[2:12])
            elif t & ERR:
                return t
        self.size, self.eflags, self.structured = size, flags, structured
        return REP_ACK

    # --- transmission ---------------------------------------------------
    def request(self, cmd, off, length, flags=0, handle=1, data=b""):
        self.send(struct.pack(">IHHQQI", REQ_MAGIC, flags, cmd, handle,
                              off, length) + data)

    def simple_reply(self, readlen=0):
        """(error, handle, data) of one simple reply; @readlen bytes of
        data follow a successful READ's reply."""
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

    # one request, one simple reply (no structured replies)
    def read(self, off, length, handle=1):
        """The data, or raise on an error reply."""
        self.request(CMD_READ, off, length, handle=handle)
        err, h, data = self.simple_reply(length)
        assert h == handle, "reply to %d, expected %d" % (h, handle)
        assert err == 0, "READ %d+%d: error %d" % (off, length, err)
        return data

    def cmd(self, cmd, off=0, length=0, flags=0, data=b"", handle=1):
        """Send one request that carries no read data; its error code."""
        self.request(cmd, off, length, flags=flags, handle=handle,
                     data=data)
        err, h, _ = self.simple_reply()
        assert h == handle, "reply to %d, expected %d" % (h, handle)
        return err

    def write(self, off, data, flags=0, handle=1):
        return self.cmd(CMD_WRITE, off, len(data), flags, data, handle)

    def flush(self, handle=1):
        return self.cmd(CMD_FLUSH, handle=handle)

    def disconnect(self):
        self.request(CMD_DISC, 0, 0)
        self.close()


def connect(uri, export, timeout=TIMEOUT, **kw):
    """A client in transmission on @export (str) of the server at @uri."""
    c = Client(parse_uri(uri), timeout)
    c.greet()
    r = c.go(export.encode(), **kw)
    assert r == REP_ACK, "GO %s: %x" % (export, r)
    return c
