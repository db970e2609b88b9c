# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A DNS server for dnsblock's tests, whose answers are chosen by the name asked for, so that a
test needs no configuration: it asks for the behaviour it wants.

    dns_responder.py [--log FILE] [ADDRESS [PORT]]     (default 127.0.0.1 53)

It serves UDP and TCP on ADDRESS:PORT and prints "listening" once both are bound.  Names
(case does not matter):

    dMS.ok.stallkit.test      after MS milliseconds: for type A the record 10.0.0.1; with a
                              first label dMS-nN, N records 10.0.0.1, 10.0.0.2, ... (N <= 1000);
                              for any other type NOERROR with no records
    dMS.nx.stallkit.test      NXDOMAIN after MS milliseconds
    dMS.fail.stallkit.test    SERVFAIL after MS milliseconds
    drop.stallkit.test        no answer, ever; also any name under drop.stallkit.test
    1.0.0.10.in-addr.arpa     type PTR: host1.stallkit.test (getnameinfo of 10.0.0.1)
    anything else             NXDOMAIN at once

A UDP answer longer than 512 bytes (about 29 records) is truncated with TC set, as a server
without EDNS must, so many records make the client ask again over TCP.  Over TCP glibc waits
for an answer with no timeout at all: a dropped name asked over TCP (RES_OPTIONS=use-vc) blocks
the lookup until the responder is killed.  Records have TTL 0, so
no cache on the way answers a repeated question.  Each delayed answer waits on a timer of its
own: a slow name never holds up another query.

With --log FILE every query received is written there as it arrives, one flushed line each:

    query EPOCH_NS PROTO ID TYPE NAME

EPOCH_NS is time.time_ns() on receipt, PROTO udp or tcp, ID the query's ID in decimal, TYPE the
type's mnemonic (A, AAAA, PTR, ... or TYPE<number>), NAME the name in lower case without the
final dot.
"""
import argparse
import re
import socket
import struct
import sys
import threading
import time

NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3
TYPE_A, TYPE_PTR, TYPE_AAAA = 1, 12, 28
CLASS_IN = 1
TYPE_NAMES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT",
              28: "AAAA", 33: "SRV", 41: "OPT", 65: "HTTPS", 255: "ANY"}
UDP_LIMIT = 512
MAX_RECORDS = 1000
ZONE = "stallkit.test"
DELAYED = re.compile(r"d(\d+)(?:-n(\d+))?\.(ok|nx|fail)\." + re.escape(ZONE))
PTR_NAME = "1.0.0.10.in-addr.arpa"
PTR_TARGET = "host1." + ZONE


class Query:
    """The parts of a query the answer needs: the question is kept as it came, so that the
    answer repeats it byte for byte (a client that randomises the case of names checks that)."""

    def __init__(self, message):
        if len(message) < 12:
            raise ValueError("shorter than a header")
        self.id, self.flags, qdcount = struct.unpack("!HHH", message[:6])
        if self.flags & 0x8000 or qdcount != 1:
            raise ValueError("not a query with one question")
        labels, offset = [], 12
        while True:
            if offset >= len(message):
                raise ValueError("name runs past the end")
            length = message[offset]
            offset += 1
            if length == 0:
                break
            if length > 63:
                # queries carry one name, so nothing to compress it against
                raise ValueError("compressed or extended label in a question")
            labels.append(message[offset:offset + length].decode("ascii", "replace"))
            offset += length
        if offset + 4 > len(message):
            raise ValueError("question runs past the end")
        self.type, self.qclass = struct.unpack("!HH", message[offset:offset + 4])
        self.question = message[12:offset + 4]
        self.name = ".".join(labels).lower()

    def type_name(self):
        return TYPE_NAMES.get(self.type, f"TYPE{self.type}")


def encode_name(name):
    return b"".join(bytes([len(label)]) + label.encode("ascii")
                    for label in name.split(".")) + b"\0"


def record(rtype, rdata):
    """A resource record for the question's name (a pointer to it at offset 12), TTL 0."""
    return struct.pack("!HHHIH", 0xC00C, rtype, CLASS_IN, 0, len(rdata)) + rdata


def decide(query):
    """What to answer: (delay in seconds, rcode, records), or None to stay silent."""
    name = query.name
    if name == "drop." + ZONE or name.endswith(".drop." + ZONE):
        return None
    if name == PTR_NAME and query.type == TYPE_PTR:
        return 0, NOERROR, [record(TYPE_PTR, encode_name(PTR_TARGET))]
    match = DELAYED.fullmatch(name)
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= MAX_RECORDS):
        return 0, NXDOMAIN, []
    delay = int(match.group(1)) / 1000
    kind = match.group(3)
    if kind == "nx":
        return delay, NXDOMAIN, []
    if kind == "fail":
        return delay, SERVFAIL, []
    if query.type != TYPE_A:
        return delay, NOERROR, []
    count = int(match.group(2) or 1)
    return delay, NOERROR, [record(TYPE_A, struct.pack("!I", 0x0A000000 + i))
                            for i in range(1, count + 1)]


def answer(query, rcode, records, limit=None):
    """The response message; with a limit, records that do not fit are left out and TC set."""
    # QR, the query's opcode and RD, AA (the zone is ours) and RA
    flags = 0x8000 | (query.flags & 0x7900) | 0x0400 | 0x0080 | rcode
    size = 12 + len(query.question)
    fitting = records
    if limit is not None and size + sum(map(len, records)) > limit:
        fitting = []
        for r in records:
            if size + len(r) > limit:
                break
            fitting.append(r)
            size += len(r)
        flags |= 0x0200
    header = struct.pack("!HHHHHH", query.id, flags, 1, len(fitting), 0, 0)
    return header + query.question + b"".join(fitting)


class Log:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()

    def query(self, proto, query):
        if not self.file:
            return
        with self.lock:
            self.file.write(f"query {time.time_ns()} {proto} {query.id} {query.type_name()} "
                            f"{query.name}\n")
            self.file.flush()


def later(delay, send):
    """Sends at once, or after the delay on a timer thread of its own."""
    if delay <= 0:
        send()
        return
    timer = threading.Timer(delay, send)
    timer.daemon = True
    timer.start()


def serve_udp(sock, log):
    while True:
        message, peer = sock.recvfrom(65535)
        try:
            query = Query(message)
        except ValueError:
            continue
        log.query("udp", query)
        decision = decide(query)
        if decision is None:
            continue
        delay, rcode, records = decision
        response = answer(query, rcode, records, UDP_LIMIT)

        def send(response=response, peer=peer):
            try:
                sock.sendto(response, peer)
            except OSError:
                pass  # the client is gone; nothing to tell
        later(delay, send)


class TcpConnection:
    """One client connection: several queries may be in flight on it (glibc sends A and AAAA
    before reading either answer), and the connection is closed only when the client has
    finished sending and every answer due has been written."""

    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.lock = threading.Lock()
        self.pending = 0
        self.eof = False

    def _close_if_done(self):
        if self.eof and self.pending == 0:
            self.sock.close()

    def _send(self, response):
        with self.lock:
            try:
                self.sock.sendall(struct.pack("!H", len(response)) + response)
            except OSError:
                pass
            self.pending -= 1
            self._close_if_done()

    def _receive(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def serve(self):
        try:
            while True:
                prefix = self._receive(2)
                message = prefix and self._receive(struct.unpack("!H", prefix)[0])
                if not message:
                    break
                try:
                    query = Query(message)
                except ValueError:
                    break
                self.log.query("tcp", query)
                decision = decide(query)
                if decision is None:
                    continue
                delay, rcode, records = decision
                with self.lock:
                    self.pending += 1
                later(delay, lambda response=answer(query, rcode, records): self._send(response))
        except OSError:
            pass
        with self.lock:
            self.eof = True
            self._close_if_done()


def serve_tcp(listener, log):
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=TcpConnection(sock, log).serve, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", nargs="?", default="127.0.0.1")
    parser.add_argument("port", nargs="?", type=int, default=53)
    parser.add_argument("--log", help="write a line for every query received to this file")
    args = parser.parse_args()

    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((args.address, args.port))
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.address, args.port))
    tcp.listen(64)
    log = Log(args.log)
    threading.Thread(target=serve_tcp, args=(tcp, log), daemon=True).start()
    print("listening", flush=True)
    serve_udp(udp, log)


if __name__ == "__main__":
    sys.exit(main())
