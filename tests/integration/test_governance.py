# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Safe on production (stallkit-policy(5)): the host's policy refuses what it does not allow,
ends sessions by itself, keeps their captures for a reading group, and audits every session;
the overhead guard ends a session that costs more than it may.  Each test has its own policy
file (STALLKIT_POLICY), audit log and capture directory in its temporary directory: the host's
/etc/stallkit and /var/log are never touched."""
import grp
import json
import os
import re
import stat
import subprocess
import time
import unittest

from harness import Test, json_documents, tool

POLL_MS = 100
GROUP = "adm"  # a group every Debian system has: the captures' reading group


class PolicyTest(Test):
    def setUp(self):
        super().setUp()
        self.policy = os.path.join(self.tmp.name, "policy.conf")
        self.audit = os.path.join(self.tmp.name, "audit.log")
        self.captures = os.path.join(self.tmp.name, "captures")
        os.mkdir(self.captures)
        self.env = dict(os.environ, STALLKIT_POLICY=self.policy)
        self.env.pop("SUDO_USER", None)

    def write_policy(self, *lines):
        with open(self.policy, "w") as f:
            f.write("# a test's policy\n\n" + "\n".join(lines) + "\n")

    def standard_policy(self, *more):
        self.write_policy("max_duration = 2s", "require_reason = yes",
                          f"audit_log = {self.audit}", f"capture_dir = {self.captures}",
                          f"capture_group = {GROUP}", "retention = 7d", *more)

    def audit_lines(self):
        with open(self.audit) as f:
            return [json.loads(line) for line in f]

    def run_policy_tool(self, name, *args, env=None, timeout=60):
        return self.run_tool(name, *args, env=env or self.env, timeout=timeout)


class Admission(PolicyTest):
    def test_a_session_without_duration_ends_at_max_duration_with_its_report(self):
        """The bar: no -d, the policy's 2 s; the report complete; the audit lines have the
        real user and the reason; the capture kept 0640 for the reading group."""
        self.standard_policy("max_cpu = 50%")
        w = self.workload(f"poll:40:{POLL_MS}")
        t = self.tracer("syslat", "-p", str(w.pid), "poll", "--reason", "INC-7 poll p99",
                        "--tag", "ticket=INC-7", env=dict(self.env, SUDO_USER="alice"))
        started = time.monotonic()
        w.go()
        rc, out, err = t.finish()
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 0, err)
        self.assertIn(f"syslat: no -d given: the policy ({self.policy}) ends this session "
                      "after 2.00s", err)
        # 2 s of tracing, and what the report takes (a sanitizer build starts slowly)
        self.assertLess(elapsed, 4.0)
        m = re.search(r"Traced for ([\d.]+)s \(duration elapsed\)", out)
        self.assertTrue(m, out)
        self.assertAlmostEqual(float(m.group(1)), 2.0, delta=0.05)
        # 2 s of 100 ms polls: 20 ended (the one in flight is listed as such), give or take one
        # for the moment tracing began
        row = re.search(r"\npoll\s+(\d+)\s+0\s", out)
        self.assertTrue(row, out)
        self.assertAlmostEqual(int(row.group(1)), 20, delta=1)
        self.assertRegex(out, r"\nlost: none\nended: duration elapsed\n"
                              r"cost: [\d.]+% of \d+ CPUs while tracing \(BPF programs ")

        start, end = self.audit_lines()
        self.assertEqual((start["event"], end["event"]), ("start", "end"))
        for line in (start, end):
            self.assertEqual(line["session"], start["session"])
            self.assertEqual(line["user"], "alice")  # sudo's caller: root's SUDO_USER
            self.assertEqual(line["uid"], 0)
            self.assertEqual(line["tool"], "syslat")
            self.assertEqual(line["reason"], "INC-7 poll p99")
            self.assertEqual(line["tags"], {"ticket": "INC-7"})
            self.assertEqual(line["policy"], self.policy)
            self.assertEqual([t["pid"] for t in line["targets"]], [w.pid])
            self.assertIn("stallwork", line["targets"][0]["cmdline"])
            self.assertEqual(line["argv"][1:3], ["-p", str(w.pid)])
        self.assertEqual(start["duration_ns"], 2_000_000_000)
        self.assertEqual(start["max_cpu_pct"], 50)
        self.assertEqual(end["ended"], "duration elapsed")
        self.assertEqual(end["exit_status"], 0)
        self.assertEqual(end["lost"]["ringbuf_full"], 0)
        self.assertGreater(end["cost"]["bpf_runs"], 20)
        self.assertLess(end["cost"]["share_pct"], 50)
        self.assertEqual(oct(os.stat(self.audit).st_mode & 0o777), "0o640")

        (name,) = os.listdir(self.captures)
        kept = os.path.join(self.captures, name)
        self.assertEqual(end["capture"], kept)
        self.assertRegex(name, rf"^\d{{8}}T\d{{6}}Z-.+-syslat-p{w.pid}-[0-9a-f]{{6}}\.cap$")
        st = os.stat(kept)
        self.assertEqual(oct(stat.S_IMODE(st.st_mode)), "0o640")
        self.assertEqual(st.st_gid, grp.getgrnam(GROUP).gr_gid)
        rc, report, err = self.run_tool("stallreport", kept)
        self.assertEqual(rc, 0, err)
        self.assertIn(row.group(0).strip(), report)

    def test_o_is_still_honoured_and_kept_in_the_directory_too(self):
        self.standard_policy()
        mine = os.path.join(self.tmp.name, "mine.cap")
        rc, _, err = self.run_policy_tool("syslat", "-d", "1s", "--reason", "trial", "-o", mine)
        self.assertEqual(rc, 0, err)
        (name,) = os.listdir(self.captures)
        self.assertRegex(name, r"-syslat-all-[0-9a-f]{6}\.cap$")
        self.assertEqual(oct(stat.S_IMODE(os.stat(mine).st_mode)), "0o600")
        self.assertEqual(oct(stat.S_IMODE(os.stat(os.path.join(self.captures, name)).st_mode)),
                         "0o640")
        with open(mine, "rb") as a, open(os.path.join(self.captures, name), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_refusals_exit_2_say_what_to_add_and_are_audited(self):
        self.standard_policy("require_target = yes", "max_cpu = 2%")
        cases = [
            (("-p", str(os.getpid())), "requires a reason: add --reason"),
            (("--reason", "x"), "requires a target: add -p PID, -t TID, --comm NAME or "
                                "--cgroup PATH"),
            (("--reason", "x", "--comm", "nginx", "-d", "5s"),
             "-d 5.00s is longer than the policy's max_duration (2.00s, "),
            (("--reason", "x", "--comm", "nginx", "--max-cpu", "5%"),
             "--max-cpu 5% is above the policy's max_cpu (2%, "),
        ]
        for tool_name in ("syslat", "offcputime", "profile", "dnsblock", "tcpretrans"):
            for args, message in cases:
                with self.subTest(tool=tool_name, args=args):
                    started = time.monotonic()
                    rc, out, err = self.run_policy_tool(tool_name, *args)
                    self.assertEqual(rc, 2, err)
                    self.assertIn(message, err)
                    self.assertEqual(out, "")
                    self.assertLess(time.monotonic() - started, 5)  # refused before loading
                    line = self.audit_lines()[-1]
                    self.assertEqual(line["event"], "refused")
                    self.assertEqual(line["tool"], tool_name)
                    self.assertIn(message, line["refusal"])
        self.assertEqual(os.listdir(self.captures), [])

    def test_a_malformed_policy_names_file_line_and_key_and_allows_nothing(self):
        cases = [
            ("max_duration = 5 minutes", ":3: max_duration: '5 minutes' is not a duration"),
            ("require_reason = maybe", ":3: require_reason: 'maybe' is not yes or no"),
            ("max_cpu = 200%", ":3: max_cpu: '200%' is not a share of the CPU"),
            ("capture_dir = relative/dir", ":3: capture_dir: 'relative/dir' is not an "
                                           "absolute path"),
            ("max_durtion = 5m", ":3: max_durtion: unknown key"),
            ("require_reason yes", ":3: expected KEY = VALUE"),
            ("retention = 7d\nretention = 1d", ":4: retention: given twice"),
        ]
        for line, message in cases:
            with self.subTest(line=line):
                self.write_policy(line)
                rc, out, err = self.run_policy_tool("syslat", "-d", "1s", "--reason", "x")
                self.assertEqual(rc, 1, err)
                self.assertIn(f"syslat: {self.policy}{message}", err)
                self.assertEqual(out, "")
        self.write_policy("max_duration = 5m")
        os.chmod(self.policy, 0o666)
        rc, _, err = self.run_policy_tool("syslat", "-d", "1s")
        self.assertEqual(rc, 1)
        self.assertIn(f"{self.policy}: must be owned by root and writable by root only", err)
        rc, _, err = self.run_policy_tool(
            "syslat", "-d", "1s", env=dict(self.env, STALLKIT_POLICY=self.policy + ".missing"))
        self.assertEqual(rc, 1)
        self.assertIn(f"{self.policy}.missing: No such file or directory", err)

    def test_a_session_that_cannot_be_audited_is_refused(self):
        self.write_policy(f"audit_log = {self.tmp.name}/no-such-dir/audit.log")
        rc, out, err = self.run_policy_tool("syslat", "-d", "1s")
        self.assertEqual(rc, 1, err)
        self.assertIn("the audit log", err)
        self.assertIn("No such file or directory: refused, as the policy", err)
        self.assertEqual(out, "")

    def test_a_capture_group_that_does_not_exist_is_refused(self):
        self.write_policy(f"audit_log = {self.audit}", f"capture_dir = {self.captures}",
                          "capture_group = stallkit-no-such-group")
        rc, _, err = self.run_policy_tool("syslat", "-d", "1s")
        self.assertEqual(rc, 1, err)
        self.assertIn("capture_group stallkit-no-such-group, which does not exist", err)


class Retention(PolicyTest):
    def test_prune_removes_captures_older_than_retention(self):
        self.standard_policy()
        now = time.time()
        ages = {"old.cap": 8, ".died.cap.Xy12ab": 9, "recent.cap": 6, "notes.txt": 30}
        for name, days in ages.items():
            path = os.path.join(self.captures, name)
            with open(path, "w") as f:
                f.write("x" * 10)
            os.utime(path, (now - days * 86400, now - days * 86400))
        rc, out, err = self.run_policy_tool("stallreport", "--prune")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(os.listdir(self.captures)), ["notes.txt", "recent.cap"])
        self.assertIn(f"2 captures removed (20 bytes), older than 7 days, from {self.captures}; "
                      "1 kept", out)

    def test_prune_without_a_capture_dir_is_an_error(self):
        self.write_policy("retention = 7d")
        rc, _, err = self.run_policy_tool("stallreport", "--prune")
        self.assertEqual(rc, 2)
        self.assertIn("has no capture_dir", err)


class OverheadGuard(Test):
    def test_a_syscall_storm_ends_the_session_within_2s_with_its_report(self):
        """syslat on a getppid() storm with --max-cpu 1%: its BPF programs alone cost several
        per cent of the host.  The storm starts at go(); the guard's one-second window that
        sees it ends at most 2 s later (1 s if the storm filled most of its window)."""
        w = self.workload("fast:200000000")
        t = self.tracer("syslat", "-p", str(w.pid), "--max-cpu", "1%", "--json")
        w.go()
        crossed = time.monotonic()
        rc, out, err = t.finish()
        ended = time.monotonic()
        self.assertEqual(rc, 0, err)
        self.assertLess(ended - crossed, 2.5, "2 s of windows, and the report")
        (doc,) = json_documents(out)
        m = re.fullmatch(r"overhead limit \(([\d.]+)% > 1%\)", doc["end_reason"])
        self.assertTrue(m, doc["end_reason"])
        self.assertGreater(float(m.group(1)), 1)
        self.assertGreater(doc["cost"]["share_pct"], 1)
        (row,) = [r for r in doc["syscalls"] if r["name"] == "getppid"]
        # the report is the whole session's: the calls of at least the window that crossed
        self.assertGreater(row["count"], 10000)
        self.assertIn("ringbuf_full", doc["lost"])

    def test_the_text_report_ends_with_the_reason(self):
        w = self.workload("fast:200000000")
        t = self.tracer("profile", "-p", str(w.pid), "-F", "999", "--max-cpu", "0.01")
        w.go()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\nended: overhead limit \([\d.]+% > 0.01%\)\ncost: ")


if __name__ == "__main__":
    unittest.main()
