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
        self.assertIn(libc["frame_pointers"], (True, False))
        self.assertGreater(libc["functions_checked"], 100)
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


if __name__ == "__main__":
    unittest.main()
