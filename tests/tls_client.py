#!/usr/bin/python3
"""A TLS client for the integration tests (integ_tls.c), on Python's ssl.

tls_client.py PORT [--ca FILE] [--cert FILE --key FILE] [--alpn P]
              [--sni NAME] [--send TEXT | --random N] [--until TEXT]
              [--proxy TEXT]

Handshakes with 127.0.0.1:PORT (the server's certificate checked against
--ca when given), sends TEXT (Python escapes: "bob\\nexit\\n") or N seeded
pseudo-random bytes, then sends close_notify and keeps reading: a
half-close, which Python's SSLSocket cannot do, hence the memory BIOs.
Reads until the server's close_notify or EOF, or until TEXT arrived.
--resume connects twice, the second time with the first's session, and
first prints "resumed=True" or "resumed=False".
--peer prints "peer=<sha256>" of the server's certificate and ends.
--hold sends no close_notify: the connection stays until the server ends it.
--proxy sends TEXT (Python escapes), a PROXY header, before the handshake.
Prints what it received, or with --random "sent=<sha256> <n>" and
"recv=<sha256> <n>", hashed as they pass (nothing held whole, at most a
MiB waiting to be sent). A failure prints "error: ..." and exits 1.
"""
import argparse
import hashlib
import random
import select
import socket
import ssl
import sys

TIMEOUT = 20


def context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED if a.ca else ssl.CERT_NONE
    if a.ca:
        ctx.load_verify_locations(a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    if a.alpn:
        ctx.set_alpn_protocols([a.alpn])
    return ctx


class Conn:
    def __init__(self, a, ctx, session=None):
        self.sock = socket.create_connection(("127.0.0.1", a.port), TIMEOUT)
        if a.proxy:
            self.sock.sendall(unescape(a.proxy))
        self.sock.setblocking(False)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname=a.sni,
                                session=session)
        self.pending = b""
        self.eof = False

    def flush(self):
        self.pending += self.out.read()
        if self.pending:
            try:
                n = self.sock.send(self.pending)
                self.pending = self.pending[n:]
            except BlockingIOError:
                pass

    def wait(self):
        """Moves bytes both ways once, waiting for the socket if need be."""
        self.flush()
        w = [self.sock] if self.pending else []
        r, _, _ = select.select([self.sock], w, [], TIMEOUT)
        if not r and not w:
            raise TimeoutError("no answer within %d s" % TIMEOUT)
        if r:
            data = self.sock.recv(65536)
            if data:
                self.inc.write(data)
            else:
                self.inc.write_eof()
                self.eof = True

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                self.flush()
                return
            except ssl.SSLWantReadError:
                if self.eof:
                    raise ConnectionError("closed during the handshake")
                self.wait()


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def payload(a):
    """What to send, in chunks: TEXT, or N seeded pseudo-random bytes made
    a MiB at a time, so that no size is held whole."""
    if a.random is None:
        yield unescape(a.send)
        return
    r, left = random.Random(24), a.random
    while left:
        n = min(left, 1 << 20)
        yield r.randbytes(n)
        left -= n


class Counted:
    """What passed one way: its SHA-256 and length, or (keep) the bytes."""

    def __init__(self, keep):
        self.hash, self.n = hashlib.sha256(), 0
        self.kept = bytearray() if keep else None

    def add(self, data):
        self.hash.update(data)
        self.n += len(data)
        if self.kept is not None:
            self.kept += data

    def line(self, name):
        return "%s=%s %d" % (name, self.hash.hexdigest(), self.n)


def exchange(c, chunks, got, until, hold):
    """Sends chunks and close_notify while reading into got (a Counted);
    at most a MiB waits to be sent. Returns what was sent (a Counted)."""
    sent, data, closing = Counted(False), b"", False
    chunks = iter(chunks)
    while True:
        while data is not None and c.out.pending + len(c.pending) < 1 << 20:
            if data:
                data = data[c.tls.write(data[:65536]):]
            elif (data := next(chunks, None)) is not None:
                sent.add(data)
        try:
            while True:
                got.add(c.tls.read(65536))
                if until and until.encode() in got.kept:
                    return sent
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return sent
        # Once every record that came is read: shutdown reads on, and
        # would take the server's data for a protocol error.
        if data is None and not closing and not hold:
            closing = True
            try:
                c.tls.unwrap()
            except ssl.SSLWantReadError:
                pass
        if c.eof and not c.inc.pending:
            return sent
        c.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    for o in ("--ca", "--cert", "--key", "--alpn", "--sni", "--until",
              "--proxy"):
        p.add_argument(o)
    p.add_argument("--send", default="")
    p.add_argument("--random", type=int)
    p.add_argument("--hold", action="store_true")
    p.add_argument("--peer", action="store_true")
    p.add_argument("--resume", action="store_true")
    a = p.parse_args()
    text = a.random is None
    try:
        ctx = context(a)
        if a.resume:
            c = Conn(a, ctx)
            c.handshake()
            exchange(c, payload(a), Counted(True), a.until, False)
            c = Conn(a, ctx, c.tls.session)
            c.handshake()
            print("resumed=%s" % c.tls.session_reused)
        else:
            c = Conn(a, ctx)
            c.handshake()
        if a.peer:
            der = c.tls.getpeercert(binary_form=True)
            print("peer=%s" % hashlib.sha256(der).hexdigest())
            return 0
        got = Counted(text)
        sent = exchange(c, payload(a), got, a.until, a.hold)
    except (OSError, ssl.SSLError, TimeoutError) as e:
        print("error: %s" % e)
        return 1
    if text:
        sys.stdout.buffer.write(got.kept)
    else:
        print(sent.line("sent"))
        print(got.line("recv"))
    return 0

if __name__ == "__main__":
    sys.exit(main())
