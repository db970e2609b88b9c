# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The tools without root: as uid 65534 (nobody) with exactly the capabilities of
packaging/file-caps, given as ambient capabilities (setpriv) or as the file capabilities of a
copy of the tool, against root's processes, with the same numbers as root gets; with fewer, the
costs docs/privileges.md and stallcheck name; with none, a clear refusal."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (DnsWorkload, Test, TOOLS, assert_no_sanitizer_report, exact_percentile,
                     json_documents)
from tcpnet import tcp_pair

NOBODY = 65534
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TRACERS = ("syslat", "offcputime", "profile", "dnsblock", "tcpretrans")
CAP_SYS_ADMIN = 21
TOLERANCE = 0.05
ZONE = "stallkit.test"


def file_caps():
    """packaging/file-caps, "cap_bpf,cap_perfmon=ep": its names without cap_ (setpriv's)"""
    with open(os.path.join(SOURCE, "packaging", "file-caps")) as f:
        (line,) = f.read().splitlines()
    names, _, flags = line.partition("=")
    assert flags == "ep", line
    return [n.removeprefix("cap_") for n in names.split(",")]


FILE_CAPS = file_caps()


def as_nobody(caps):
    """The command that runs a program as nobody, no groups, with exactly caps (ambient)"""
    argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            "--inh-caps=" + ",".join(["-all"] + [f"+{c}" for c in caps])]
    if caps:
        argv.append("--ambient-caps=" + ",".join(f"+{c}" for c in caps))
    return argv + ["--"]


def capabilities_of(pid, field="CapEff"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def function_names(frames):
    return [f["function"] for f in frames]


def suid_allowed(path):
    """File capabilities count on this file system (not mounted nosuid)"""
    return not os.statvfs(path).f_flag & os.ST_NOSUID


class Privileges(Test):
    """The tools are copied into a directory nobody may enter (the build may be in root's
    home), and removed with it."""

    @classmethod
    def setUpClass(cls):
        # file capabilities need a file system that honours them: /tmp may be nosuid
        parent = next((d for d in (tempfile.gettempdir(), "/var/tmp") if suid_allowed(d)),
                      tempfile.gettempdir())
        cls.bin = tempfile.mkdtemp(prefix="stallkit-priv-", dir=parent)
        cls.addClassCleanup(shutil.rmtree, cls.bin, ignore_errors=True)
        os.chmod(cls.bin, 0o755)
        for name in TRACERS + ("stallcheck",):
            shutil.copy2(os.path.join(TOOLS, name), cls.bin)

    def setUp(self):
        super().setUp()
        self.require_programs("setpriv")

    def program(self, name):
        return os.path.join(self.bin, name)

    def run_as(self, caps, name, *args, timeout=120):
        p = subprocess.run(as_nobody(caps) + [self.program(name), *args], capture_output=True,
                           text=True, timeout=timeout)
        assert_no_sanitizer_report(p.stderr)
        return p.returncode, p.stdout, p.stderr

    def tracer_as(self, caps, name, *args):
        return self.tracer(name, *args, prefix=as_nobody(caps), program=self.program(name))


class WithFileCaps(Privileges):
    """Exactly packaging/file-caps, against processes of root"""

    def test_syslat_counts_names_descriptors_and_calls_in_progress(self):
        """Another user's polls: exact count, p50 within 2%, the descriptor named; its threads
        still in read() at the end listed (/proc/PID/fd and syscall: CAP_SYS_PTRACE and
        CAP_DAC_READ_SEARCH)."""
        w = self.workload("poll:10:40", "hang", "wait")
        t = self.tracer_as(FILE_CAPS, "syslat", "-p", str(w.pid), "--per-fd", "--json",
                           "poll", "read")
        w.go()
        for _ in range(500):
            if len(w.facts().get("poll_ns", [])) == 10 and w.facts().get("tid hang"):
                break
            time.sleep(0.01)
        time.sleep(0.2)  # the hung thread into its read()
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = [d for d in json_documents(out) if d.get("type") == "summary"]
        facts = w.facts()
        (poll,) = [r for r in doc["syscalls"] if r["name"] == "poll"]
        self.assertEqual((poll["count"], poll["errors"]), (10, 0))
        self.assertWithin(poll["p50_ns"], exact_percentile(facts["poll_ns"], 50), 0.02)
        self.assertEqual((poll["fd"], poll["fd_desc"]), facts["fd poll"][0])
        hung = facts["tid hang"][0]
        self.assertEqual([f["name"] for f in doc["in_flight"] if f["tid"] == hung], ["read"],
                         doc["in_flight"])
        self.assertTrue(all(v == 0 for v in doc["lost"].values()), doc["lost"])
        w.finish()

    def test_offcputime_names_user_and_kernel_frames(self):
        """Another user's sleeps: their count, their total within 5%, the user stack named
        to the thread's start (its binaries through /proc/PID/root), the kernel stack named
        (/proc/kallsyms: CAP_SYSLOG)."""
        w = self.blockwork("sleep:10:50")
        t = self.tracer_as(FILE_CAPS, "offcputime", "-p", str(w.pid), "--json")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        sleeps = [s for s in doc["stacks"]
                  if "sleep_in_nanosleep" in function_names(s["user_stack"])]
        self.assertEqual(sum(s["count"] for s in sleeps), 10, doc["stacks"])
        self.assertWithin(sum(s["total_ns"] for s in sleeps), sum(w.facts()["sleep"]), TOLERANCE)
        names = function_names(sleeps[0]["user_stack"])
        caller = names.index("sleep_in_nanosleep")
        self.assertEqual(names[caller + 1:caller + 3], ["run_scenario", "start_thread"])
        kernel = function_names(sleeps[0]["kernel_stack"])
        self.assertEqual(kernel[0], "__schedule")
        self.assertIn("hrtimer_nanosleep", kernel)
        self.assertNotIn("kallsyms", err)

    def test_profile_shares_of_named_functions(self):
        """Another user's CPU burned 3:1 in two functions: their shares within 3 points, every
        stack from main."""
        w = self.cpuwork("ratio:5")
        t = self.tracer_as(FILE_CAPS, "profile", "-F", "99", "-p", str(w.pid), "--json")
        w.go()
        w.wait_done()
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(w.finish(), 0)
        (doc,) = json_documents(out)
        facts = w.facts()

        def samples(function):
            return sum(s["count"] for s in doc["stacks"]
                       if function in function_names(s.get("user_stack", [])))
        three, one = samples("burn_three"), samples("burn_one")
        truth = facts["cpu burn_three"] / (facts["cpu burn_three"] + facts["cpu burn_one"])
        self.assertAlmostEqual(three / (three + one), truth, delta=0.03)
        for s in doc["stacks"]:
            if s["pid"] == w.pid:
                self.assertIn("main", function_names(s["user_stack"]))
        self.assertTrue(doc["cost"]["known"], "BPF stats: CAP_SYS_ADMIN")

    def test_dnsblock_sees_the_lookup_and_gives_up_cap_sys_admin(self):
        """A lookup by another user's process through a server that answers after 100 ms: seen
        with its name, result and latency; CAP_SYS_ADMIN is gone once the uprobes are on."""
        ns = self.dns_namespace()
        w = DnsWorkload(self, [f"getaddrinfo:d100.ok.{ZONE}"], prefix=ns.exec_prefix())
        t = self.tracer_as(FILE_CAPS, "dnsblock", "-p", str(w.pid), "--json")
        self.assertEqual(capabilities_of(t.proc.pid, "CapPrm") >> CAP_SYS_ADMIN & 1, 0)
        self.assertEqual(capabilities_of(t.proc.pid, "CapAmb") >> CAP_SYS_ADMIN & 1, 0)
        self.assertNotEqual(capabilities_of(t.proc.pid), 0)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        docs = json_documents(out)
        (lookup,) = [d for d in docs if d["type"] == "lookup"]
        (fact,) = w.facts()
        self.assertEqual((lookup["name"], lookup["result"], lookup["tid"]),
                         (f"d100.ok.{ZONE}", "OK:1", fact["tid"]))
        self.assertLessEqual(lookup["latency_ns"], fact["latency_ns"])
        self.assertWithin(lookup["latency_ns"], fact["latency_ns"], TOLERANCE)

    def test_tcpretrans_finds_the_owner_in_proc(self):
        """A connection stuck before tcpretrans started, its owner root's: BPF has not seen
        the owner, /proc/PID/fd has (CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)."""
        port = 5000
        pair = tcp_pair(self)
        pair.serve(port, reply_after=10_000, reply=100)
        blackout = pair.nft("b", [f"tcp dport {port} tcp flags & (syn | fin | rst) == 0 "
                                  "meta length > 100 counter drop"])
        client = pair.sender(port, 0, nodelay=True, bursts=1, burst_bytes=10_000)
        client.go()
        self.assertGreater(client.lport, 0)
        t = self.tracer_as(FILE_CAPS, "tcpretrans", "--json", "-d", "3", "-p", str(client.pid))
        rc, out, err = t.finish()
        blackout.remove()
        client.finish()
        self.assertEqual(rc, 0, err)
        mine = [e for e in json_documents(out)
                if e["type"] == "retransmit" and e["lport"] == client.lport]
        self.assertGreater(len(mine), 0)
        self.assertEqual({(e["pid"], e["comm"], e["kind"]) for e in mine},
                         {(client.pid, "python3", "RTO")})

    def test_stallcheck_finds_nothing_lacking(self):
        rc, out, err = self.run_as(FILE_CAPS, "stallcheck", "--json")
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        for cap in FILE_CAPS:
            self.assertTrue(doc["capabilities"][f"cap_{cap}"], cap)
        for name in TRACERS:
            self.assertEqual(doc["tools"][name]["lacks"], [], name)
            self.assertTrue(doc["tools"][name]["runs"], doc["tools"][name])

    def test_as_file_capabilities(self):
        """A copy of syslat with packaging/file-caps set on it, run by nobody without ambient
        capabilities: secure mode (AT_SECURE), not dumpable, the sanitizers still work."""
        self.require_programs("setcap")
        if not suid_allowed(self.bin):
            self.skipTest(f"{self.bin} is on a nosuid file system: file capabilities ignored")
        with open(os.path.join(SOURCE, "packaging", "file-caps")) as f:
            caps = f.read().strip()
        exe = os.path.join(self.bin, "syslat-file-caps")
        shutil.copy2(self.program("syslat"), exe)
        self.addCleanup(os.unlink, exe)
        subprocess.run(["setcap", caps, exe], check=True)
        w = self.workload("poll:8:30")
        t = self.tracer("syslat", "-p", str(w.pid), "--json", "poll", prefix=as_nobody([]),
                        program=exe)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = [d for d in json_documents(out) if d.get("type") == "summary"]
        self.assertEqual([(r["name"], r["count"]) for r in doc["syscalls"]], [("poll", 8)])


class WithFewer(Privileges):
    """With fewer capabilities: the costs stallcheck and docs/privileges.md name, nothing
    worse."""

    def test_bpf_and_perfmon_only(self):
        """offcputime still counts another user's blocks exactly, but cannot name their frames
        (no CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH) nor the kernel's (no CAP_SYSLOG), and says
        why; stallcheck names both costs, and that dnsblock cannot run."""
        rc, out, err = self.run_as(["bpf", "perfmon"], "stallcheck", "--json")
        self.assertEqual(rc, 0, err)
        (check,) = json_documents(out)
        self.assertFalse(check["capabilities"]["cap_sys_ptrace"])
        kallsyms_hidden = not check["capabilities"]["kallsyms_visible"]
        lacks = {tuple(l["capabilities"]): l for l in check["tools"]["offcputime"]["lacks"]}
        self.assertIn(("CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"), lacks)
        self.assertEqual(("CAP_SYSLOG",) in lacks, kallsyms_hidden)
        self.assertFalse(any(l["fatal"] for l in lacks.values()))
        dnsblock = check["tools"]["dnsblock"]
        self.assertFalse(dnsblock["runs"])
        self.assertIn("CAP_SYS_ADMIN", dnsblock["reason"])
        self.assertTrue(any(l["fatal"] and l["capabilities"] == ["CAP_SYS_ADMIN"]
                            for l in dnsblock["lacks"]), dnsblock["lacks"])

        w = self.blockwork("sleep:5:40")
        t = self.tracer_as(["bpf", "perfmon"], "offcputime", "-p", str(w.pid), "--json")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        mine = [s for s in doc["stacks"] if s["pid"] == w.pid and s["state"] == "S"]
        self.assertGreaterEqual(sum(s["count"] for s in mine), 5, doc["stacks"])
        names = [n for s in mine for n in function_names(s["user_stack"]) if n]
        self.assertNotIn("sleep_in_nanosleep", names)
        self.assertEqual("CAP_SYSLOG" in err, kallsyms_hidden, err)

    def test_without_cap_sys_admin(self):
        """What the tools have once they gave CAP_SYS_ADMIN up: syslat still counts exactly,
        its cost unknown; dnsblock says it cannot create uprobes."""
        caps = [c for c in FILE_CAPS if c != "sys_admin"]
        w = self.workload("poll:5:20")
        t = self.tracer_as(caps, "syslat", "-p", str(w.pid), "--json", "poll")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = [d for d in json_documents(out) if d.get("type") == "summary"]
        self.assertEqual([(r["name"], r["count"]) for r in doc["syscalls"]], [("poll", 5)])
        rc, out, err = self.run_as(caps, "dnsblock", "-d", "1s")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("CAP_SYS_ADMIN", err)


class WithNone(Privileges):
    def test_clear_refusal(self):
        """No capability, or CAP_BPF alone: exit 1, nothing on stdout, one message naming what
        is missing, the group and stallcheck."""
        for name in TRACERS + ("stallcheck",):
            for caps, missing in (([], "CAP_BPF and CAP_PERFMON"), (["bpf"], "CAP_PERFMON")):
                with self.subTest(tool=name, caps=caps):
                    args = [] if name == "stallcheck" else ["-d", "1s"]
                    rc, out, err = self.run_as(caps, name, *args)
                    self.assertEqual((rc, out), (1, ""), err)
                    self.assertEqual(len(err.splitlines()), 1, err)
                    self.assertTrue(err.startswith(f"{name}: lacks {missing}, "), err)
                    self.assertIn("group stallkit", err)
                    self.assertIn("stallcheck", err)
