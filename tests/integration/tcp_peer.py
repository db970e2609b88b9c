# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Both ends of a TCP connection for tcpretrans's tests, run in network namespaces.

    tcp_peer.py serve --addr A --port P [--reply-after N [--reply R]]
    tcp_peer.py send --addr A --port P --bytes N [--chunk C] [--nodelay] [--wait]
    tcp_peer.py send --addr A --port P --bursts K --burst-bytes B [--reply R] [--wait]

serve listens on A:P (IPv6 when A contains ':'), prints "listening" once it does, and reads
every connection until EOF, then closes it.  With --reply-after N it sends R bytes (default 1)
back after every N bytes received: an application-level acknowledgement, so that a sender
knows a burst has arrived.

send connects and prints "connected LPORT" (its local port).  With --wait it first prints
"ready PID" and waits for a line on stdin, so that a tracer can be attached before the
connection starts.  It then writes N bytes C bytes at a time or, in burst mode, K bursts of B
bytes in one write each (with TCP_NODELAY), reading the server's R-byte reply after each burst
(the server runs with --reply-after B).  Either way it ends by shutting down its side and
reading until the server closes, so everything sent has been received and acknowledged; then
it prints "done" and exits 0.  Any failure: a message on stderr and exit 1.  Every blocking
operation on a connection times out after 30 s.  --cpu N (either command) runs it on CPU N
only.
"""
import argparse
import os
import socket
import sys
import threading

TIMEOUT = 30  # seconds, for each blocking operation on a connection


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def say(*words):
    print(*words, flush=True)


def read_exactly(sock, n):
    while n > 0:
        data = sock.recv(min(n, 65536))
        if not data:
            raise ConnectionError(f"connection closed with {n} reply bytes outstanding")
        n -= len(data)


def read_to_eof(sock):
    while sock.recv(65536):
        pass


def handle(conn, reply_after, reply):
    """Reads one connection until EOF, replying after every reply_after bytes."""
    try:
        with conn:
            conn.settimeout(TIMEOUT)
            pending = 0
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                if reply_after:
                    pending += len(data)
                    while pending >= reply_after:
                        pending -= reply_after
                        conn.sendall(b"r" * reply)
    except OSError as e:
        print(f"tcp_peer serve: connection: {e}", file=sys.stderr, flush=True)


def serve(args):
    listener = socket.socket(family(args.addr), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.addr, args.port))
    listener.listen(64)
    say("listening")
    while True:  # until killed: accept() waits for the next test's connection, not timed
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, args.reply_after, args.reply),
                         daemon=True).start()


def send(args):
    if args.wait:
        say("ready", os.getpid())
        if not sys.stdin.readline():
            raise ConnectionError("stdin closed before the go line")
    sock = socket.socket(family(args.addr), socket.SOCK_STREAM)
    with sock:
        sock.settimeout(TIMEOUT)
        if args.nodelay or args.bursts:
            # each burst leaves in one go, its last segment marked PSH, not held back by Nagle
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((args.addr, args.port))
        say("connected", sock.getsockname()[1])
        if args.bursts:
            burst = b"b" * args.burst_bytes
            for _ in range(args.bursts):
                sock.sendall(burst)
                read_exactly(sock, args.reply)
        else:
            chunk, left = b"d" * args.chunk, args.bytes
            while left > 0:
                sock.sendall(chunk[:left])
                left -= min(left, args.chunk)
        # EOF from the server means it has read everything, and so every byte was acknowledged
        sock.shutdown(socket.SHUT_WR)
        read_to_eof(sock)
        say("retransmitted", total_retrans(sock))
    say("done")


def total_retrans(sock):
    """The segments this socket retransmitted, by its own count (struct tcp_info's
    tcpi_total_retrans, a __u32 at byte 100 since Linux 2.6)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int.from_bytes(info[100:104], sys.byteorder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "send"):
        sub = commands.add_parser(name)
        sub.add_argument("--addr", required=True)
        sub.add_argument("--port", type=int, required=True)
        sub.add_argument("--reply", type=int, default=1, help="bytes in each reply")
        sub.add_argument("--cpu", type=int, help="run on this CPU only")
    serve_args = commands.choices["serve"]
    serve_args.add_argument("--reply-after", type=int, help="reply after every N bytes")
    send_args = commands.choices["send"]
    send_args.add_argument("--bytes", type=int, default=0)
    send_args.add_argument("--chunk", type=int, default=65536, help="bytes per write")
    send_args.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY")
    send_args.add_argument("--bursts", type=int, default=0)
    send_args.add_argument("--burst-bytes", type=int, default=0)
    send_args.add_argument("--wait", action="store_true", help="wait for a line on stdin")
    args = parser.parse_args()
    if args.command == "send" and (args.chunk <= 0 or args.bursts and args.burst_bytes <= 0):
        parser.error("--chunk and --burst-bytes must be positive")
    try:
        if args.cpu is not None:
            os.sched_setaffinity(0, {args.cpu})
        if args.command == "serve":
            serve(args)
        else:
            send(args)
    except (OSError, ValueError) as e:
        print(f"tcp_peer {args.command}: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
