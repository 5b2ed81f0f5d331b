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
"recv=<sha256> <n>". A failure prints "error: ..." and exits 1.
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
    if a.random is not None:
        return random.Random(24).randbytes(a.random)
    return unescape(a.send)


def exchange(c, data, until, hold):
    """Sends data and close_notify while reading; returns what came."""
    got, sent, closing = bytearray(), 0, False
    while True:
        while sent < len(data) and len(c.pending) < 1 << 20:
            sent += c.tls.write(data[sent:sent + 65536])
        if sent == len(data) and not closing and not hold:
            closing = True
            try:
                c.tls.unwrap()
            except ssl.SSLWantReadError:
                pass
        try:
            while True:
                got += c.tls.read(65536)
                if until and until.encode() in got:
                    return bytes(got)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return bytes(got)
        if c.eof and not c.inc.pending:
            return bytes(got)
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
    try:
        ctx = context(a)
        if a.resume:
            c = Conn(a, ctx)
            c.handshake()
            exchange(c, payload(a), a.until, False)
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
        data = payload(a)
        got = exchange(c, data, a.until, a.hold)
    except (OSError, ssl.SSLError, TimeoutError) as e:
        print("error: %s" % e)
        return 1
    if a.random is not None:
        for k, v in (("sent", data), ("recv", got)):
            print("%s=%s %d" % (k, hashlib.sha256(v).hexdigest(), len(v)))
    else:
        sys.stdout.buffer.write(got)
    return 0


if __name__ == "__main__":
    sys.exit(main())
