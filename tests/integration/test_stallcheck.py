#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""stallcheck against the facts of the running kernel, each checked here independently.

Run as root:  STALLKIT_BUILD=/path/to/build python3 -m unittest tests/integration/test_stallcheck.py -v
"""
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

TRACEFS_MAGIC = 0x74726163
CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_PERFMON, CAP_BPF = 21, 24, 38, 39
NOBODY = "65534"


def stallcheck_path():
    build = os.environ.get("STALLKIT_BUILD")
    if not build:
        raise unittest.SkipTest("STALLKIT_BUILD is not set (the build directory)")
    path = os.path.join(build, "tools", "stallcheck")
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is not built")
    return path


def fs_type(path):
    """statfs(2)'s f_type, the first member of struct statfs on every Linux ABI; None if
    statfs fails."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    buf = ctypes.create_string_buffer(256)  # larger than struct statfs
    if libc.statfs(path.encode(), buf) != 0:
        return None
    return ctypes.c_long.from_buffer(buf).value


def tracefs_mounted():
    return any(fs_type(p) == TRACEFS_MAGIC
               for p in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"))


def effective_caps():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    raise AssertionError("no CapEff in /proc/self/status")


def cgroup2_mounts():
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, fs = line.partition(" - ")
            if fs.split()[0] == "cgroup2":
                mounts.append(fields.split()[4])
    return mounts


def snake_case_keys(value, where="$"):
    """Every object key in the document, with where it is, that is not snake_case."""
    bad = []
    if isinstance(value, dict):
        for k, v in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                bad.append(f"{where}.{k}")
            bad += snake_case_keys(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad += snake_case_keys(v, f"{where}[{i}]")
    return bad


def frame_pointer_prologues(path):
    """Of the exported functions of path (binutils' nm: defined, 16 bytes or more, each address
    once), how many begin by setting up a frame pointer (push %rbp; mov %rsp,%rbp, after an
    endbr64 or not), read from the file's bytes: (checked, with a frame pointer)."""
    sections = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True,
                              check=True).stdout
    text = []  # (address, file offset, size) of the executable PROGBITS sections
    for m in re.finditer(r"\]\s+\S+\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)"
                         r"\s+\S+\s+(\S*X\S*)", sections):
        text.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)))
    symbols = subprocess.run(["nm", "-D", "-S", "--defined-only", path], capture_output=True,
                             text=True, check=True).stdout
    starts = {int(w[0], 16) for w in (line.split() for line in symbols.splitlines())
              if len(w) == 4 and w[2] in "TW" and int(w[1], 16) >= 16}
    prologues = (bytes.fromhex("554889e5"), bytes.fromhex("55488bec"))
    with_fp = 0
    with open(path, "rb") as f:
        for addr in starts:
            (offset,) = [o + addr - a for a, o, n in text if a <= addr < a + n]
            f.seek(offset)
            head = f.read(8)
            if head.startswith(bytes.fromhex("f30f1efa")):
                head = head[4:]
            with_fp += head.startswith(prologues)
    return len(starts), with_fp


class StallcheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root: stallcheck loads BPF programs")
        cls.path = stallcheck_path()
        run = subprocess.run([cls.path, "--json"], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise AssertionError(f"stallcheck --json exited {run.returncode}: {run.stderr}")
        cls.stderr = run.stderr
        cls.doc = json.loads(run.stdout)  # one document: json.loads rejects anything after it

    def test_json_is_one_document_with_snake_case_keys(self):
        self.assertEqual(snake_case_keys(self.doc), [])
        self.assertEqual(self.stderr, "")

    def test_kernel_release(self):
        self.assertEqual(self.doc["kernel"]["release"], os.uname().release)
        self.assertEqual(self.doc["kernel"]["machine"], os.uname().machine)

    def test_btf_iff_vmlinux_btf_file(self):
        self.assertEqual(self.doc["btf"]["available"], os.path.exists("/sys/kernel/btf/vmlinux"))

    def test_tp_btf_and_raw_tp_available(self):
        for f in ("tp_btf", "raw_tp"):
            self.assertTrue(self.doc["features"][f]["available"], self.doc["features"][f])
            self.assertIsNone(self.doc["features"][f]["reason"])

    def test_kprobe_unavailable_iff_no_kprobe_pmu(self):
        pmu = os.path.exists("/sys/bus/event_source/devices/kprobe")
        kprobe = self.doc["features"]["kprobe"]
        self.assertEqual(kprobe["available"], pmu, kprobe)
        if not pmu:
            self.assertIn("CONFIG_KPROBES", kprobe["reason"])

    def test_tracefs_iff_statfs(self):
        mounted = tracefs_mounted()
        self.assertEqual(self.doc["tracefs"]["mounted"], mounted)
        if not mounted:
            self.assertIsNone(self.doc["tracefs"]["path"])
            # classic tracepoints need tracefs: the probe must have failed, and said why
            self.assertFalse(self.doc["features"]["tracepoint"]["available"])
            self.assertIn("tracefs", self.doc["features"]["tracepoint"]["reason"])
        else:
            self.assertEqual(fs_type(self.doc["tracefs"]["path"]), TRACEFS_MAGIC)

    def test_every_feature_has_a_reason_when_missing(self):
        for name, f in self.doc["features"].items():
            self.assertIsInstance(f["available"], bool, name)
            self.assertEqual(f["reason"] is None, f["available"], (name, f))

    def test_capabilities_match_proc_status(self):
        eff = effective_caps()
        caps = self.doc["capabilities"]
        for key, bit in (("cap_bpf", CAP_BPF), ("cap_perfmon", CAP_PERFMON),
                         ("cap_sys_admin", CAP_SYS_ADMIN),
                         ("cap_sys_resource", CAP_SYS_RESOURCE)):
            self.assertEqual(caps[key], bool(eff >> bit & 1), key)

    def test_lockdown(self):
        lockdown = self.doc["lockdown"]
        try:
            with open("/sys/kernel/security/lockdown") as f:
                mode = re.search(r"\[(\w+)\]", f.read()).group(1)
        except OSError:
            self.assertFalse(lockdown["known"])
            self.assertIn("securityfs", lockdown["reason"])
        else:
            self.assertTrue(lockdown["known"])
            self.assertEqual(lockdown["mode"], mode)

    def test_cgroup2(self):
        mounts = cgroup2_mounts()
        cg = self.doc["cgroup"]
        self.assertEqual(cg["v2_mounted"], bool(mounts))
        if mounts:
            self.assertEqual(cg["v2_path"], mounts[0])
        unified = fs_type("/sys/fs/cgroup") == 0x63677270
        self.assertEqual(cg["hierarchy"] == "unified", bool(mounts) and unified)

    def test_bpf_stats(self):
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            enabled = f.read().strip() == "1"
        self.assertEqual(self.doc["bpf_stats"]["enabled"], enabled)
        # root with CAP_SYS_ADMIN on a 5.8+ kernel can turn them on
        self.assertTrue(self.doc["bpf_stats"]["can_enable"], self.doc["bpf_stats"])

    def test_libc(self):
        libc = self.doc["libc"]
        self.assertTrue(libc["found"], libc)
        # python and stallcheck run on the same libc
        self.assertTrue(os.path.samefile(libc["path"], self.mapped_libc()))
        checked, with_fp = frame_pointer_prologues(libc["path"])
        self.assertGreater(checked, 100)
        self.assertEqual((libc["functions_checked"], libc["functions_with_frame_pointer"]),
                         (checked, with_fp))
        # a quarter of the functions or more: built with frame pointers
        self.assertEqual(libc["frame_pointers"], with_fp * 4 >= checked)
        # the build-id as binutils reads it from the note, not the tool's own
        notes = subprocess.run(["readelf", "-n", libc["path"]], capture_output=True, text=True,
                               check=True).stdout
        bid = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)
        self.assertEqual(libc["build_id"], bid)
        expect = f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
        self.assertEqual(libc["debug_file"], expect)
        self.assertEqual(libc["debug_file_exists"], os.path.exists(expect))

    @staticmethod
    def mapped_libc():
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if re.fullmatch(r"libc\.so\.\d+|libc-.*\.so", os.path.basename(path)):
                    return path
        raise AssertionError("python maps no libc")

    def assertRunsAsSaid(self, name, *args):
        """The tool's "runs" against running it for real, briefly (its own features are the
        same document's, and no ground truth)."""
        build = os.path.dirname(os.path.dirname(self.path))
        run = subprocess.run([os.path.join(build, "tools", name), *args], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(self.doc["tools"][name]["runs"], run.returncode == 0,
                         (name, run.returncode, run.stderr[-2000:]))

    def test_runs_is_what_running_the_tool_says(self):
        self.assertRunsAsSaid("syslat", "-d", "200ms")
        self.assertRunsAsSaid("offcputime", "200ms")
        self.assertRunsAsSaid("profile", "200ms")
        self.assertRunsAsSaid("dnsblock", "-d", "200ms")
        self.assertRunsAsSaid("tcpretrans", "-d", "200ms")

    def test_syslat_uses_tp_btf(self):
        syslat = self.doc["tools"]["syslat"]
        self.assertFalse(syslat["planned"])
        self.assertTrue(syslat["runs"], syslat)
        self.assertEqual(syslat["flavour"], "tp_btf")
        self.assertEqual([h["tracepoint"] for h in syslat["hooks"]],
                         ["raw_syscalls:sys_enter", "raw_syscalls:sys_exit"])
        # syslat's object holds a ring buffer and a task storage map: it runs only with both
        self.assertEqual(syslat["runs"], self.doc["features"]["task_storage"]["available"] and
                         self.doc["features"]["ringbuf"]["available"])

    def test_offcputime(self):
        tool = self.doc["tools"]["offcputime"]
        self.assertFalse(tool["planned"])
        self.assertEqual([h["tracepoint"] for h in tool["hooks"]], ["sched:sched_switch"])
        self.assertEqual(tool["runs"], self.doc["features"]["ringbuf"]["available"])

    def test_profile(self):
        tool = self.doc["tools"]["profile"]
        self.assertFalse(tool["planned"])
        self.assertEqual(tool["hooks"], [])
        self.assertEqual(tool["perf_event"], "the CPU clock")
        self.assertEqual(tool["options"]["wall"]["available"],
                         tool["runs"] and self.doc["features"]["tp_btf"]["available"])

    def test_dnsblock(self):
        tool = self.doc["tools"]["dnsblock"]
        self.assertFalse(tool["planned"])
        self.assertEqual([h["tracepoint"] for h in tool["hooks"]], ["sched:sched_switch"])
        self.assertEqual(tool["runs"], self.doc["features"]["ringbuf"]["available"] and
                         self.doc["features"]["uprobe"]["available"])

    def test_tcpretrans(self):
        tool = self.doc["tools"]["tcpretrans"]
        self.assertFalse(tool["planned"])
        self.assertEqual([h["tracepoint"] for h in tool["hooks"]],
                         ["tcp:tcp_retransmit_skb", "tcp:tcp_retransmit_synack",
                          "sock:inet_sock_set_state", "skb:kfree_skb"])
        self.assertEqual(tool["runs"], self.doc["features"]["ringbuf"]["available"])
        self.assertEqual(tool["runs"], tool["reason"] is None, tool)

    def test_text_report(self):
        run = subprocess.run([self.path], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        for section in ("Kernel", "Tools", "User stacks through libc"):
            self.assertIn(f"\n{section}\n", "\n" + run.stdout)
        self.assertRegex(run.stdout, r"\n  syslat +yes +tp_btf: raw_syscalls:sys_enter")
        self.assertRegex(run.stdout, rf"\n  release +{re.escape(os.uname().release)} ")

    def test_usage_error_exits_2(self):
        run = subprocess.run([self.path, "--no-such-option"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 2)
        self.assertIn("unrecognized option '--no-such-option'", run.stderr)
        self.assertEqual(run.stdout, "")

    def test_unprivileged_exits_1(self):
        if not shutil.which("setpriv"):
            self.skipTest("setpriv (util-linux) is not installed")
        run = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                              "--clear-groups", self.path], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertEqual(run.stdout, "")
        self.assertIn("root", run.stderr)
        self.assertIn("CAP_BPF", run.stderr)

    def test_process_unwind_info(self):
        """-p PID: every binary the process runs code from, with the rules of its unwind
        table; a binary stripped of .eh_frame has none, libc has them."""
        tmp = tempfile.TemporaryDirectory(prefix="stallkit-test-")
        self.addCleanup(tmp.cleanup)
        binary = os.path.join(tmp.name, "noinfo")
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                               "target.c")
        subprocess.run(["gcc", "-O2", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
                        "-o", binary, fixture], check=True)
        subprocess.run(["objcopy", "--remove-section=.eh_frame",
                        "--remove-section=.eh_frame_hdr", binary], check=True)
        p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(p.wait)
        self.addCleanup(p.stdin.close)
        p.stdout.readline()
        run = subprocess.run([self.path, "--json", "-p", str(p.pid)], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        process = json.loads(run.stdout)["process"]
        with open(f"/proc/{p.pid}/maps") as f:
            mapped = {line.split()[5] for line in f
                      if len(line.split()) > 5 and "x" in line.split()[1]
                      and line.split()[5].startswith("/")}
        rules = {b["path"]: b["unwind_rules"] for b in process["binaries"]}
        self.assertEqual(set(rules), mapped)
        self.assertEqual(rules[binary], 0)
        self.assertGreater(rules[self.doc["libc"]["path"]], 1000)
        self.assertEqual(self.doc["libc"]["unwind_rules"], rules[self.doc["libc"]["path"]])

    def test_process_that_does_not_exist(self):
        run = subprocess.run([self.path, "-p", "999999999"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 2)
        self.assertIn("no process 999999999", run.stderr)


if __name__ == "__main__":
    unittest.main()
