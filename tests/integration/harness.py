# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Shared pieces of the integration tests: the built tools, workloads with known stalls, and
cleanup that also happens when a test fails.

The tests run as root against the real kernel (Test); those that need no privileges
(Unprivileged, e.g. the symbolizer on files) run as anyone.  A test that cannot run reports
itself skipped: CTest shows the file as skipped, and scripts/test (CI) fails on it.
"""
import itertools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BUILD = os.environ.get("STALLKIT_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
TOOLS = os.path.join(BUILD, "tools")
WORKLOADS = os.path.join(BUILD, "tests", "workloads")
STALLWORK = os.path.join(WORKLOADS, "stallwork")
BLOCKWORK = os.path.join(WORKLOADS, "blockwork")
DNSWORK = os.path.join(WORKLOADS, "dnswork")
CPUWORK = os.path.join(WORKLOADS, "cpuwork")
DNS_RESPONDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns_responder.py")
ATTACH_TIMEOUT = 30  # seconds; sanitizer builds start slowly


def tool(name):
    return os.path.join(TOOLS, name)


class Unprivileged(unittest.TestCase):
    """A test case that needs no privileges: a temporary directory, and cleanup of what it
    started."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="stallkit-test-")
        self.addCleanup(self.tmp.cleanup)

    def require_programs(self, *names):
        """The programs the test runs, installed by scripts/setup test."""
        missing = [n for n in names if not shutil.which(n)]
        if missing:
            self.skipTest(f"needs {', '.join(missing)} (scripts/setup test)")

    def start(self, argv, **kwargs):
        """Starts a process that is killed at cleanup if still running."""
        proc = subprocess.Popen(argv, **kwargs)

        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        self.addCleanup(stop)
        return proc

    def workload(self, *steps, wait=True, argv0=None):
        return Workload(self, steps, wait, argv0)

    def blockwork(self, *scenarios):
        return BlockWorkload(self, scenarios)

    def cpuwork(self, *scenarios):
        return CpuWorkload(self, scenarios)

    def dnswork(self, *steps, ns=None):
        """dnswork with --wait, in the DnsNamespace ns (whose resolver it then uses) if given."""
        return DnsWorkload(self, steps, prefix=ns.exec_prefix() if ns else None)

    def dns_namespace(self):
        """A network namespace whose resolver is dns_responder.py, removed at cleanup."""
        if os.geteuid() != 0:
            self.skipTest("needs root (network namespaces)")
        self.require_programs("ip")
        return DnsNamespace(self)

    def tracer(self, name, *args, env=None, prefix=(), program=None):
        """name with args in the background; prefix is a command that execs it (setpriv ...),
        program a copy of the tool to run instead of the build's."""
        return Tracer(self, name, args, env, prefix, program)

    def run_tool(self, name, *args, timeout=60, **kwargs):
        """Runs a tool to completion: (returncode, stdout, stderr), never a sanitizer's
        report (an ASan error exits 1, as a runtime error of the tool does)."""
        p = subprocess.run([tool(name), *args], capture_output=True, text=True,
                           timeout=timeout, **kwargs)
        assert_no_sanitizer_report(p.stderr)
        return p.returncode, p.stdout, p.stderr

    def assertWithin(self, value, expected, rel, msg=None):
        self.assertLessEqual(abs(value - expected), rel * expected,
                             f"{value} not within {rel:.1%} of {expected}"
                             + (f"\n{msg}" if msg else ""))


class Test(Unprivileged):
    """A test case that needs root and cleans up what it started."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            self.skipTest("kernel has no BTF")
        super().setUp()


class Workload:
    """stallwork with --wait: started, stopped before its first step until go().  A prefix
    (["ip", "netns", "exec", NAME]) runs it through a command that execs it: the PID stays
    the workload's."""
    PROGRAM = STALLWORK
    LOG_VARIABLE = "STALLWORK_LOG"

    def __init__(self, test, steps, wait=True, argv0=None, prefix=None):
        name = os.path.basename(self.PROGRAM)
        self.log = os.path.join(test.tmp.name, f"{name}-{len(os.listdir(test.tmp.name))}.log")
        env = dict(os.environ, **{self.LOG_VARIABLE: self.log})
        argv = [self.PROGRAM] + (["--wait"] if wait else []) + list(steps)
        if argv0:
            # another command name (comm) for the same program: a symlink named argv0
            exe = os.path.join(test.tmp.name, argv0)
            os.symlink(self.PROGRAM, exe)
            argv[0] = exe
        argv = list(prefix or []) + argv
        self.proc = test.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=env)
        self.pid = self.proc.pid
        if wait:
            line = self.proc.stdout.readline()
            assert line.startswith("ready "), line
            # a prefix that forked would leave self.pid naming it, not the workload
            assert not prefix or line.split()[1] == str(self.pid), (argv, line, self.pid)

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self, timeout=60):
        self.proc.stdin.close()
        return self.proc.wait(timeout)

    def facts(self):
        """The ground truth the workload logged: {'poll_ns': [..], 'fd poll': [...], ...}"""
        facts = {}
        if not os.path.exists(self.log):
            return facts
        with open(self.log) as f:
            for line in f:
                words = line.split()
                if words[0] in ("poll_ns", "recv_ns"):
                    facts.setdefault(words[0], []).append(int(words[1]))
                elif words[0] == "fd":
                    facts.setdefault("fd " + words[1], []).append(
                        (int(words[2]), " ".join(words[3:])))
                elif words[0] == "tid":
                    facts.setdefault("tid " + words[1], []).append(int(words[2]))
        return facts


class BlockWorkload(Workload):
    """blockwork with --wait: threads that block in named functions for known times."""
    PROGRAM = BLOCKWORK
    LOG_VARIABLE = "BLOCKWORK_LOG"

    def facts(self):
        """The ground truth: {'sleep': [ns of each block], ..., 'tid sleep': tid, ...}"""
        facts = {}
        with open(self.log) as f:
            for line in f:
                words = line.split()
                if words[0] == "tid":
                    facts["tid " + words[1]] = int(words[2])
                else:
                    facts.setdefault(words[0], []).append(int(words[1]))
        return facts


class CpuWorkload(Workload):
    """cpuwork with --wait: CPU time burned in named functions, known in advance."""
    PROGRAM = CPUWORK
    LOG_VARIABLE = "CPUWORK_LOG"

    def wait_done(self):
        """Returns once the scenarios are done (the workload then waits for finish())."""
        line = self.proc.stdout.readline()
        assert line == "done\n", line

    def facts(self):
        """The ground truth: {'cpu burn_three': ns, ..., 'thread burn_all_along':
        {'tid': .., 'lifetime_ns': .., 'cpu_ns': ..}, ...}"""
        facts = {}
        with open(self.log) as f:
            for line in f:
                words = line.split()
                if words[0] == "cpu":
                    facts["cpu " + words[1]] = int(words[2])
                elif words[0] == "thread":
                    facts["thread " + words[1]] = {
                        "tid": int(words[2]), "lifetime_ns": int(words[3]),
                        "cpu_ns": int(words[4])}
        return facts


class DnsWorkload(Workload):
    """dnswork with --wait: name lookups through libc's resolver functions."""
    PROGRAM = DNSWORK
    LOG_VARIABLE = "DNSWORK_LOG"

    def facts(self):
        """The lookups in the order they ended: [{'api': 'getaddrinfo', 'name': ..., 'tid': ..,
        'latency_ns': .., 'result': 'OK' or 'EAI_NONAME' ..., 'naddr': ..}, ...]"""
        facts = []
        if not os.path.exists(self.log):
            return facts
        with open(self.log) as f:
            for line in f:
                words = line.split()
                if words[0] == "lookup":
                    facts.append({"api": words[1], "name": words[2], "tid": int(words[3]),
                                  "latency_ns": int(words[4]), "result": words[5],
                                  "naddr": int(words[6])})
        return facts


_dns_namespaces = itertools.count()
# Whether this process created /etc/netns (and so removes it when the last namespace is gone)
_created_etc_netns = False


class DnsNamespace:
    """A network namespace with only lo, whose resolv.conf names dns_responder.py on
    127.0.0.1:53 inside it (timeout 1 s, one try), so programs run with exec_prefix() resolve
    through the responder and the host's resolver is never touched.  Cleanup (registered with
    the test) stops the responder and removes the namespace and its /etc/netns directory."""

    def __init__(self, test):
        global _created_etc_netns
        self.name = f"stallkit-dns-{os.getpid()}-{next(_dns_namespaces)}"
        self.etc = os.path.join("/etc/netns", self.name)
        self.log = os.path.join(test.tmp.name, f"{self.name}.log")
        self.responder = None
        self.added = False
        # from here on, whatever has been made is undone even if the rest fails
        test.addCleanup(self.close)
        if not os.path.isdir("/etc/netns"):
            os.mkdir("/etc/netns")
            _created_etc_netns = True
        os.mkdir(self.etc)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.added = True
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        self.errors = os.path.join(test.tmp.name, f"{self.name}.stderr")
        with open(self.errors, "w") as errors:
            self.responder = subprocess.Popen(
                self.exec_prefix() + [sys.executable, DNS_RESPONDER, "--log", self.log],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True)
        ready, _, _ = select.select([self.responder.stdout], [], [], ATTACH_TIMEOUT)
        line = self.responder.stdout.readline() if ready else ""
        if line != "listening\n":
            with open(self.errors) as f:
                raise AssertionError(f"dns_responder.py did not start: {line!r} {f.read()}")

    def exec_prefix(self):
        """What runs a command in the namespace: prefix + argv."""
        return ["ip", "netns", "exec", self.name]

    def queries(self):
        """The queries the responder received, in order: [{'time_ns': (epoch), 'proto': 'udp'
        or 'tcp', 'id': .., 'type': 'A', 'name': 'd200.ok.stallkit.test'}, ...]"""
        queries = []
        if not os.path.exists(self.log):
            return queries
        with open(self.log) as f:
            for line in f:
                words = line.split()
                if words[0] == "query":
                    queries.append({"time_ns": int(words[1]), "proto": words[2],
                                    "id": int(words[3]), "type": words[4], "name": words[5]})
        return queries

    def close(self):
        global _created_etc_netns
        if self.responder:
            if self.responder.poll() is None:
                self.responder.kill()
            self.responder.wait()
            self.responder.stdout.close()
            self.responder = None
        if self.added:
            subprocess.run(["ip", "netns", "delete", self.name], check=True)
            self.added = False
        shutil.rmtree(self.etc, ignore_errors=True)
        if _created_etc_netns:
            try:
                os.rmdir("/etc/netns")
                _created_etc_netns = False
            except OSError:
                pass  # another namespace still uses it; the last one removes it


class Tracer:
    """A tool running in the background; started() returns once it has attached."""

    def __init__(self, test, name, args, env=None, prefix=(), program=None):
        self.proc = test.start([*prefix, program or tool(name), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        self.stderr_lines = []
        self.attached = threading.Event()
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        if not self.attached.wait(ATTACH_TIMEOUT):
            self.proc.kill()
            raise AssertionError(f"{name} did not attach: {''.join(self.stderr_lines)}")

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            if line.startswith(("Tracing", "Sampling")):
                self.attached.set()
        self.attached.set()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def finish(self, timeout=60):
        """Waits for the tool to end: (returncode, stdout, stderr), never a sanitizer's
        report."""
        out = self.proc.stdout.read()
        rc = self.proc.wait(timeout)
        self.reader.join(timeout)
        err = "".join(self.stderr_lines)
        assert_no_sanitizer_report(err)
        return rc, out, err


SANITIZER_REPORTS = re.compile(r"ERROR: (Address|Leak|Undefined)Sanitizer|runtime error: |"
                               r"SUMMARY: (Address|Leak|Undefined)Sanitizer")


def assert_no_sanitizer_report(stderr):
    """The tools are built with ASan and UBSan under scripts/test: a report fails the test
    whatever the exit code (a usage error that also leaked would still exit 2)."""
    found = SANITIZER_REPORTS.search(stderr)
    if found:
        raise AssertionError(f"sanitizer report: {stderr[max(0, found.start() - 200):]}")


def json_documents(text):
    """The JSON values of a tool's output: one document, or JSON lines."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def exact_percentile(values, p):
    """Nearest-rank percentile, the definition the tools use."""
    values = sorted(values)
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]
