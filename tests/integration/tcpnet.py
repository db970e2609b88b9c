# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Two network namespaces joined by a veth pair, for TCP retransmissions on demand: a client
(tcp_peer.py send) in side 'a', a server (tcp_peer.py serve) in side 'b', nftables rules that
drop chosen packets at a side's input, and that side's own TCP counters to check against.
Use a new pair for each case: a namespace's counters, and the TCP metrics it caches for the
peer (ssthresh, RTT) after each connection, carry over to the next connection.

Dropping at the receiver's input is what makes the sender retransmit (a drop on the sender's
own output path is just sent again as new data).  TSO, GSO and GRO are off on both veth ends,
so every TCP packet carries one segment and a dropped packet is one lost segment.
"""
import itertools
import os
import queue
import re
import select
import subprocess
import sys
import tempfile
import threading
import time

TCP_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_peer.py")
START_TIMEOUT = 30  # seconds for a peer to start listening or connect
SIDES = ("a", "b")

_pairs = itertools.count()
_tables = itertools.count()


def tcp_pair(test):
    """A TcpPair for a harness test, which is skipped (failed in CI) when it cannot run."""
    if os.geteuid() != 0:
        test.skipTest("needs root (network namespaces)")
    test.require_programs("ip", "nft", "ethtool")
    return TcpPair(test)


class TcpPair:
    """Namespaces a (10.213.N.1, fd00:213:N::1) and b (10.213.N.2, fd00:213:N::2) on one veth
    pair.  Cleanup (registered with the test before anything is made) kills the peers started
    and deletes both namespaces, with them the veth pair and any nftables tables."""

    def __init__(self, test):
        n = next(_pairs)
        self.net = n % 256
        base = f"stallkit-tcp-{os.getpid()}-{n}"
        self.ns = {side: f"{base}-{side}" for side in SIDES}
        # a pid has at most 7 digits: "sk" + 7 + "-" + counter + side fits in IFNAMSIZ (15)
        self.dev = {side: f"sk{os.getpid()}-{n % 1000}{side}" for side in SIDES}
        # both peers run on this CPU: veth queues a packet on the sending CPU's backlog, so a
        # sender that moves between CPUs reorders its own segments (spurious retransmits)
        self.cpu = min(os.sched_getaffinity(0))
        self.added = []
        self.procs = []
        self.senders = []
        self.replies = {}  # port: bytes in each reply of the server there
        # from here on, whatever has been made is undone even if the rest fails
        test.addCleanup(self.close)
        for side in SIDES:
            subprocess.run(["ip", "netns", "add", self.ns[side]], check=True)
            self.added.append(self.ns[side])
            self._ip(side, "link", "set", "lo", "up")
        # made inside the namespaces, so the host never sees either end
        subprocess.run(["ip", "link", "add", self.dev["a"], "netns", self.ns["a"], "type", "veth",
                        "peer", "name", self.dev["b"], "netns", self.ns["b"]], check=True)
        for i, side in enumerate(SIDES, 1):
            dev = self.dev[side]
            self._ip(side, "addr", "add", f"10.213.{self.net}.{i}/24", "dev", dev)
            # nodad: usable at once, not after duplicate address detection
            self._ip(side, "addr", "add", f"fd00:213:{self.net}::{i}/64", "dev", dev, "nodad")
            subprocess.run(self.exec_prefix(side) + ["ethtool", "-K", dev, "tso", "off", "gso",
                           "off", "gro", "off"], check=True, stdout=subprocess.DEVNULL)
            self._ip(side, "link", "set", dev, "up")
        for side in SIDES:
            self._wait_ready(side)

    def _ip(self, side, *args):
        subprocess.run(["ip", "-n", self.ns[side], *args], check=True)

    def _wait_ready(self, side):
        """Waits until IPv6 works on side's veth end.  IPv6 adds the multicast route that
        neighbour discovery needs only once the kernel has seen the carrier come up, a little
        after "link set up": a connection made before that has its first neighbour
        solicitation dropped, so its SYN waits a second and counts a (spurious) timeout."""
        deadline = time.monotonic() + START_TIMEOUT
        while not subprocess.run(["ip", "-n", self.ns[side], "-6", "route", "list", "table",
                                  "local", "type", "multicast", "dev", self.dev[side]],
                                 check=True, capture_output=True, text=True).stdout:
            if time.monotonic() > deadline:
                raise AssertionError(f"IPv6 not ready on {self.dev[side]} in {self.ns[side]}")
            time.sleep(0.02)

    def exec_prefix(self, side):
        """What runs a command in namespace side ('a' or 'b'): prefix + argv."""
        return ["ip", "netns", "exec", self.ns[side]]

    def addr(self, side, v6=False):
        i = SIDES.index(side) + 1
        return f"fd00:213:{self.net}::{i}" if v6 else f"10.213.{self.net}.{i}"

    def _peer(self, side, args, **kwargs):
        proc = subprocess.Popen(self.exec_prefix(side) + [sys.executable, TCP_PEER, *args,
                                                          "--cpu", str(self.cpu)],
                                stdout=subprocess.PIPE, text=True, **kwargs)
        self.procs.append(proc)
        return proc

    def serve(self, port, v6=False, reply_after=None, reply=None):
        """tcp_peer.py serve on side b, running once this returns."""
        args = ["serve", "--addr", self.addr("b", v6), "--port", str(port)]
        if reply_after:
            args += ["--reply-after", str(reply_after)]
        if reply:
            args += ["--reply", str(reply)]
        self.replies[port] = reply
        proc = self._peer("b", args, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if line != "listening\n":
            raise AssertionError(f"tcp_peer.py serve did not start: {line!r}")
        return proc

    def sender(self, port, nbytes=0, v6=False, chunk=65536, nodelay=False, bursts=None,
               burst_bytes=None, reply=None, wait=True):
        """tcp_peer.py send on side a to side b's server; see Sender.  In burst mode it reads
        replies of the size that server sends unless told another."""
        reply = reply or self.replies.get(port)
        args = ["send", "--addr", self.addr("b", v6), "--port", str(port), "--bytes",
                str(nbytes), "--chunk", str(chunk)]
        args += ["--nodelay"] if nodelay else []
        if bursts:
            args += ["--bursts", str(bursts), "--burst-bytes", str(burst_bytes)]
        if reply:
            args += ["--reply", str(reply)]
        args += ["--wait"] if wait else []
        return Sender(self, args, wait)

    def nft(self, side, rules):
        """Loads rule lines into the input chain of a new table in side's own ruleset."""
        return NftTable(self.exec_prefix(side), f"stallkit_{os.getpid()}_{next(_tables)}", rules)

    def counters(self, side):
        """Side's TCP counters: the Tcp: line of /proc/net/snmp and the TcpExt: line of
        /proc/net/netstat, as one dict ({'RetransSegs': .., 'TCPFastRetrans': .., ...}).  cat
        runs in the namespace, where /proc/net (a link to /proc/self/net) is the namespace's."""
        text = subprocess.run(self.exec_prefix(side) + ["cat", "/proc/net/snmp",
                              "/proc/net/netstat"], check=True, capture_output=True,
                              text=True).stdout
        counters, names = {}, {}
        # each group is a line of names followed by a line of values, both "Group: ..."
        for line in text.splitlines():
            group, *words = line.split()
            if group not in ("Tcp:", "TcpExt:"):
                continue
            if group in names:
                counters.update(zip(names.pop(group), map(int, words)))
            else:
                names[group] = words
        return counters

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        # a sender's reader thread sees EOF now; its file is closed once it has
        while self.senders:
            self.senders.pop().close()
        while self.procs:
            proc = self.procs.pop()
            for stream in (proc.stdin, proc.stdout):
                if stream:
                    stream.close()
        # a namespace goes with the veth end and nftables tables in it
        while self.added:
            subprocess.run(["ip", "netns", "delete", self.added.pop()], check=True)


class Sender:
    """tcp_peer.py send, waiting (with wait=True) before it connects until go().  pid is the
    peer's own (ip netns exec execs it); lport is its local port, once it has connected."""

    def __init__(self, pair, args, wait):
        self.errors = tempfile.TemporaryFile("w+")
        self.proc = pair._peer("a", args, stdin=subprocess.PIPE, stderr=self.errors)
        self.pid = self.proc.pid
        self.out = []
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        pair.senders.append(self)
        self._lport = None
        if wait:
            line = self._line()
            if line.split() != ["ready", str(self.pid)]:
                raise AssertionError(f"tcp_peer.py send did not start: {line!r} "
                                     f"{self._errors()}")

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line)
            self.lines.put(line)
        self.lines.put("")

    def _line(self, timeout=START_TIMEOUT):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def _errors(self):
        self.errors.seek(0)
        return self.errors.read()

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    @property
    def lport(self):
        """The client's port, waiting (after go()) until it has connected."""
        if self._lport is None:
            line = self._line()
            if not re.fullmatch(r"connected \d+\n", line):
                raise AssertionError(f"tcp_peer.py send did not connect: {line!r} "
                                     f"{self._errors()}")
            self._lport = int(line.split()[1])
        return self._lport

    def finish(self, timeout=60):
        """Waits for the sender to exit 0: its whole stdout."""
        self.proc.stdin.close()
        rc = self.proc.wait(timeout)
        self.reader.join(timeout)
        if rc != 0:
            raise AssertionError(f"tcp_peer.py send exited {rc}: {self._errors()}")
        return "".join(self.out)

    def retransmitted(self):
        """The segments its socket retransmitted, by the socket's own count (after finish)."""
        (count,) = [int(line.split()[1]) for line in "".join(self.out).splitlines()
                    if line.startswith("retransmitted ")]
        return count

    def close(self):
        """At the pair's cleanup, once the process has been killed."""
        self.reader.join()
        self.errors.close()


class NftTable:
    """An inet table with a filter chain on hook input, priority 0, made of the given rules."""

    def __init__(self, prefix, name, rules):
        self.prefix, self.name = prefix, name
        chain = "\n".join(f"    {rule}" for rule in rules)
        script = (f"table inet {name} {{\n  chain input {{\n"
                  f"    type filter hook input priority 0; policy accept;\n{chain}\n  }}\n}}\n")
        subprocess.run(prefix + ["nft", "-f", "-"], input=script, text=True, check=True)
        self.removed = False

    def list(self):
        """nft list table: the table as it is now, with its counters."""
        return subprocess.run(self.prefix + ["nft", "list", "table", "inet", self.name],
                              check=True, capture_output=True, text=True).stdout

    def packets(self):
        """The packets counted by each counter statement, in rule order."""
        return [int(n) for n in re.findall(r"counter packets (\d+)", self.list())]

    def remove(self):
        if not self.removed:
            subprocess.run(self.prefix + ["nft", "delete", "table", "inet", self.name],
                           check=True)
            self.removed = True
