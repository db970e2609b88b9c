# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""syslat against stallwork, whose stalls are known in advance: counts exactly, latencies
within stated tolerances of what the workload measured itself."""
import os
import signal
import subprocess
import time
import unittest

from harness import Test, exact_percentile, json_documents, tool


def rows(doc, name):
    return [r for r in doc["syscalls"] if r["name"] == name]


def summary(out):
    docs = [d for d in json_documents(out) if d.get("type") == "summary"]
    assert len(docs) == 1, out
    return docs[0]


class SyslatPoll(Test):
    def test_poll_count_and_percentiles(self):
        """20 polls timing out after 50 ms: exact count, p50 within 2% of the measured one."""
        w = self.workload("poll:20:50")
        t = self.tracer("syslat", "-p", str(w.pid), "--json", "poll")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = summary(out)
        self.assertEqual(doc["tool"], "syslat")
        self.assertEqual(doc["end_reason"], "all traced processes exited")
        (poll,) = rows(doc, "poll")
        self.assertEqual(len(doc["syscalls"]), 1, "only the named syscall is traced")
        measured = w.facts()["poll_ns"]
        self.assertEqual(poll["count"], 20)
        self.assertEqual(poll["errors"], 0)
        self.assertEqual(poll["errnos"], {})
        self.assertEqual(poll["nr"], 7 if os.uname().machine == "x86_64" else poll["nr"])
        # the workload's clock reads bracket the syscall: the tool sees slightly less
        self.assertWithin(poll["p50_ns"], exact_percentile(measured, 50), 0.02)
        self.assertWithin(poll["p99_ns"], exact_percentile(measured, 99), 0.02)
        self.assertWithin(poll["max_ns"], max(measured), 0.02)
        self.assertWithin(poll["total_ns"], sum(measured), 0.02)
        self.assertGreaterEqual(poll["max_ns"], 50_000_000)
        self.assertEqual(poll["avg_ns"], poll["total_ns"] // 20)
        for key in ("lost",):
            self.assertTrue(all(v == 0 for v in doc[key].values()), doc[key])

    def test_text_report(self):
        w = self.workload("poll:5:20")
        t = self.tracer("syslat", "-p", str(w.pid), "poll")
        w.go()
        w.finish()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        header = next(i for i, l in enumerate(lines) if l.startswith("SYSCALL"))
        self.assertEqual(lines[header].split(),
                         ["SYSCALL", "COUNT", "ERRORS", "TOTAL", "AVG", "P50", "P90", "P99", "MAX"])
        cells = lines[header + 1].split()
        self.assertEqual(cells[:3], ["poll", "5", "0"])
        self.assertTrue(cells[5].endswith("ms"), cells)
        self.assertEqual(lines[-3:-1], ["lost: none", "ended: all traced processes exited"])
        self.assertRegex(lines[-1], r"^cost: [\d.]+% of \d+ CPUs while tracing \(BPF programs "
                                    r"[\d.]+%, the tool [\d.]+%\), [\d.]+ µs per event "
                                    r"\(\d+ events\); start-up \S+ of CPU$")


class SyslatErrors(Test):
    def test_failing_calls(self):
        w = self.workload("fail:7:EBADF", "fail:5:ENOENT", "fast:100")
        t = self.tracer("syslat", "-p", str(w.pid), "--json")
        w.go()
        w.finish()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = summary(out)
        (close,) = rows(doc, "close")
        self.assertEqual(close["errors"], 7)
        self.assertEqual(close["errnos"], {"EBADF": 7})
        (openat,) = rows(doc, "openat")
        self.assertEqual(openat["errors"], 5)
        self.assertEqual(openat["errnos"], {"ENOENT": 5})
        (getppid,) = rows(doc, "getppid")
        self.assertEqual(getppid["count"], 100)
        self.assertEqual(getppid["errors"], 0)

    def test_only_failed(self):
        """-x counts failed calls only; the pipe's successful close() calls are left out."""
        w = self.workload("fail:7:EBADF", "poll:2:1")
        t = self.tracer("syslat", "-p", str(w.pid), "-x", "--json")
        w.go()
        w.finish()
        doc = summary(t.finish()[1])
        (close,) = rows(doc, "close")
        self.assertEqual((close["count"], close["errors"]), (7, 7))
        self.assertEqual(rows(doc, "poll"), [])

    def test_one_errno(self):
        w = self.workload("fail:7:EBADF", "fail:4:EAGAIN", "fail:5:ENOENT")
        t = self.tracer("syslat", "-p", str(w.pid), "-e", "EAGAIN", "--json")
        w.go()
        w.finish()
        doc = summary(t.finish()[1])
        self.assertEqual([r["name"] for r in doc["syscalls"]], ["read"])
        self.assertEqual(doc["syscalls"][0]["errnos"], {"EAGAIN": 4})
        self.assertEqual(doc["syscalls"][0]["count"], 4)


class SyslatDescriptors(Test):
    def test_per_fd_names_the_descriptor(self):
        """Both descriptors are fd 3, one after the other; each has its row and its name.  The
        socket is closed after 120 ms, before syslat first looks at /proc (250 ms)."""
        w = self.workload("poll:3:100", "recv:6:20")
        t = self.tracer("syslat", "-p", str(w.pid), "--per-fd", "--json", "poll", "recvfrom")
        w.go()
        w.finish()
        doc = summary(t.finish()[1])
        facts = w.facts()
        (poll,) = rows(doc, "poll")
        (recv,) = rows(doc, "recvfrom")
        poll_fd, poll_what = facts["fd poll"][0]
        recv_fd, recv_what = facts["fd recv"][0]
        self.assertEqual((poll["pid"], poll["fd"], poll["fd_desc"]), (w.pid, poll_fd, poll_what))
        self.assertEqual((recv["fd"], recv["fd_desc"]), (recv_fd, recv_what))
        self.assertEqual((poll["count"], recv["count"]), (3, 6))
        self.assertEqual(recv["errnos"], {"EAGAIN": 6})

    def test_min_prints_exactly_the_slow_calls(self):
        w = self.workload("poll:4:30", "poll:20:1", "recv:3:25")
        t = self.tracer("syslat", "-p", str(w.pid), "--min", "20ms", "--json")
        w.go()
        w.finish()
        docs = json_documents(t.finish()[1])
        events = [d for d in docs if d.get("type") == "slow_call"]
        self.assertEqual(docs[-1]["type"], "summary", "events come before the summary")
        facts = w.facts()
        # the slow ones by the workload's own clock: the 4 polls of 30 ms and the 3 receives
        # of 25 ms, and a 1 ms poll only if the VM stalled it past 20 ms
        for name, key in (("poll", "poll_ns"), ("recvfrom", "recv_ns")):
            slow = sum(1 for ns in facts[key] if ns >= 20_000_000)
            near = sum(1 for ns in facts[key] if abs(ns - 20_000_000) < 100_000)
            seen = sum(1 for e in events if e["name"] == name)
            self.assertLessEqual(abs(seen - slow), near, (name, facts[key]))
        self.assertGreaterEqual(sum(1 for e in events if e["name"] == "poll"), 4)
        self.assertEqual(sum(1 for e in events if e["name"] == "recvfrom"), 3)
        for e in events:
            self.assertGreaterEqual(e["latency_ns"], 20_000_000)
            self.assertEqual((e["pid"], e["tid"], e["comm"]), (w.pid, w.pid, "stallwork"))
        polls = [e for e in events if e["name"] == "poll"]
        self.assertTrue(all(e["fd_desc"] == facts["fd poll"][0][1] for e in polls), polls)
        self.assertEqual(sum("timeout=30.0ms" in e["args"] for e in polls), 4, polls)
        recvs = [e for e in events if e["name"] == "recvfrom"]
        self.assertTrue(all(e["errno"] == "EAGAIN" and e["ret"] == -11 for e in recvs), recvs)


class SyslatThreads(Test):
    def test_thread_churn_does_not_stop_counting(self):
        """10,000 short-lived threads, then a new thread's calls are still all counted."""
        w = self.workload("threads:10000", "thread-poll:5:10")
        t = self.tracer("syslat", "-p", str(w.pid), "--json", "getppid", "poll")
        w.go()
        w.finish(timeout=300)
        doc = summary(t.finish()[1])
        (getppid,) = rows(doc, "getppid")
        (poll,) = rows(doc, "poll")
        self.assertEqual(getppid["count"], 10000)
        self.assertEqual(poll["count"], 5)
        self.assertTrue(all(v == 0 for v in doc["lost"].values()), doc["lost"])

    def test_per_thread_rows(self):
        w = self.workload("poll:2:10", "thread-poll:3:10")
        t = self.tracer("syslat", "-p", str(w.pid), "--per-thread", "--json", "poll")
        w.go()
        w.finish()
        doc = summary(t.finish()[1])
        thread = w.facts()["tid thread-poll"][0]
        got = sorted((r["pid"], r["tid"], r["count"]) for r in rows(doc, "poll"))
        self.assertEqual(got, sorted([(w.pid, w.pid, 2), (w.pid, thread, 3)]))

    def blocked_thread(self, w, fact):
        """Waits until the thread the workload names under fact sleeps in a syscall."""
        for _ in range(200):
            tids = w.facts().get(fact)
            if tids:
                with open(f"/proc/{tids[0]}/syscall") as f:
                    if f.read()[0].isdigit():
                        return tids[0]
            time.sleep(0.01)
        self.fail(f"no {fact} thread blocked")

    def test_in_flight_at_the_end(self):
        """A thread blocked in read() when the report is made is listed, with its duration."""
        w = self.workload("hang", "wait")
        w.go()
        hung = self.blocked_thread(w, "tid hang")
        t = self.tracer("syslat", "-p", str(w.pid), "-d", "1s", "--json", "read")
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = summary(out)
        reads = [f for f in doc["in_flight"] if f["tid"] == hung]
        self.assertEqual(len(reads), 1, doc["in_flight"])
        self.assertEqual(reads[0]["name"], "read")
        self.assertTrue(reads[0]["began_before_tracing"])
        self.assertGreaterEqual(reads[0]["duration_ns"], 900_000_000)
        # the main thread waits on stdin in read() too: also listed
        self.assertIn(w.pid, [f["tid"] for f in doc["in_flight"]])
        w.finish()


class SyslatProcesses(Test):
    def test_calls_that_do_not_return_where_they_began(self):
        """A successful execve() returns in the new program: counted once, no error; exit_group
        never returns: not counted, nothing lost."""
        w = self.workload("poll:2:10", "exec", "poll:3:10")
        t = self.tracer("syslat", "-p", str(w.pid), "--json")
        w.go()
        w.finish()
        doc = summary(t.finish()[1])
        (execve,) = rows(doc, "execve")
        self.assertEqual((execve["count"], execve["errors"]), (1, 0))
        self.assertEqual(sum(r["count"] for r in rows(doc, "poll")), 5)
        self.assertEqual(rows(doc, "exit_group"), [])
        self.assertTrue(all(v == 0 for v in doc["lost"].values()), doc["lost"])

    def test_thread_filter(self):
        """-t: only that thread's calls; the process's other threads are left out."""
        w = self.workload("waiting-thread-poll:4:200", "poll:3:10", wait=False)
        # the thread waits for a line before its first poll(), until the tracer has attached
        tid = SyslatThreads.blocked_thread(self, w, "tid thread-poll")
        t = self.tracer("syslat", "-t", str(tid), "--json", "poll")
        w.go()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary(out)["end_reason"], "all traced processes exited")
        (poll,) = rows(summary(out), "poll")
        self.assertEqual(poll["count"], 4)  # the thread's, not the main thread's 3
        self.assertGreaterEqual(poll["p50_ns"], 200_000_000)

    def test_top_and_histogram(self):
        w = self.workload("poll:4:20", "fail:3:EBADF", "fast:50")
        t = self.tracer("syslat", "-p", str(w.pid), "-T", "2", "-H")
        w.go()
        w.finish()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        header = next(i for i, l in enumerate(lines) if l.startswith("SYSCALL"))
        self.assertEqual(lines[header + 1].split()[:2], ["poll", "4"])
        self.assertEqual(lines[header + 3], "", "-T 2: two rows")
        hist = lines.index("poll, 4 calls:")
        # 20 ms lies in the power-of-two range [16.8ms, 33.6ms): all four calls there
        self.assertRegex(lines[hist + 2], r"16\.8ms -> 33\.6ms +: 4 +\|\*{40}\|")


def source_line(path, text):
    """The line number of the first line of a source file that contains text."""
    with open(path) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


class SyslatStacks(Test):
    STALLWORK_C = os.path.join(os.path.dirname(__file__), "../workloads/stallwork.c")

    def test_stacks_name_the_calling_line(self):
        """The stacks of slow polls, on the main thread and on a worker, name the function that
        called poll() and its line, although libc's poll keeps no frame pointer; the process
        has exited by the report and still resolves."""
        w = self.workload("poll:3:40", "thread-poll:2:40")
        t = self.tracer("syslat", "-p", str(w.pid), "--min", "30ms", "--stacks", "--json",
                        "poll")
        w.go()
        w.finish()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = summary(out)
        stacks = sorted(doc["stacks"], key=lambda s: -s["count"])
        self.assertEqual([s["count"] for s in stacks], [3, 2])
        call_line = source_line(self.STALLWORK_C, "poll(&p, 1, ms)")
        measured = w.facts()["poll_ns"]
        self.assertWithin(sum(s["total_ns"] for s in stacks), sum(measured), 0.02)
        for s, caller in zip(stacks, ("main", "poll_thread")):
            names = [f["function"] for f in s["user_stack"]]
            self.assertIn("poll_empty_pipe", names, s["user_stack"])
            self.assertIn(caller, names)
            frame = s["user_stack"][names.index("poll_empty_pipe")]
            self.assertTrue(frame["file"].endswith("tests/workloads/stallwork.c"), frame)
            self.assertEqual(frame["line"], call_line)
            self.assertTrue(frame["module"].endswith("/stallwork"), frame)
            self.assertRegex(frame["build_id"], r"^[0-9a-f]{40}$")
            self.assertLess(names.index("poll_empty_pipe"), names.index(caller))
            self.assertFalse(s["user_stack_truncated"], names)
            kernel = s["kernel_stack"]
            self.assertTrue(kernel and all(f["kernel"] for f in kernel), kernel)
            self.assertFalse(kernel[0]["function"].startswith("bpf_"), kernel[0])
            self.assertIn("do_syscall_64", [f["function"] for f in kernel])
        self.assertTrue(all(v == 0 for v in doc["lost"].values()), doc["lost"])

    def test_stacks_need_min(self):
        rc, out, err = self.run_tool("syslat", "--stacks")
        self.assertEqual(rc, 2)
        self.assertIn("--stacks needs --min", err)


class SyslatSignals(Test):
    def check_signal_ends_with_report(self, sig, reason):
        w = self.workload("poll:200:20")
        t = self.tracer("syslat", "-p", str(w.pid), "--json", "poll")
        w.go()
        time.sleep(1)
        t.signal(sig)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = summary(out)
        self.assertEqual(doc["end_reason"], reason)
        (poll,) = rows(doc, "poll")
        self.assertGreater(poll["count"], 10)
        self.assertLess(poll["count"], 200)

    def test_sigterm(self):
        self.check_signal_ends_with_report(signal.SIGTERM, "terminated")

    def test_sigint(self):
        self.check_signal_ends_with_report(signal.SIGINT, "interrupted")

    def test_sighup(self):
        self.check_signal_ends_with_report(signal.SIGHUP, "hangup")

    def test_sigterm_text_report_is_complete_in_a_file(self):
        """`timeout 2 syslat > f` leaves a complete report in f."""
        w = self.workload("poll:200:20")
        w.go()
        out = os.path.join(self.tmp.name, "report.txt")
        with open(out, "w") as f:
            p = subprocess.run(["timeout", "2", tool("syslat"), "-p", str(w.pid), "poll"],
                               stdout=f, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 124, p.stderr)  # timeout's "it timed out"
        with open(out) as f:
            text = f.read()
        self.assertIn("(terminated)", text)
        self.assertRegex(text, r"\npoll +\d+ +0 ")
        self.assertRegex(text, r"\nlost: none\nended: terminated\ncost: .*\n$")


class SyslatEnvironment(Test):
    def test_works_without_tracefs(self):
        """In a private mount namespace where tracefs is not mounted anywhere."""
        w = self.workload("poll:3:10")
        script = ("for m in /sys/kernel/tracing /sys/kernel/debug/tracing; do "
                  "  umount -l $m 2>/dev/null; done; "
                  "if grep -q ' tracefs ' /proc/self/mounts; then echo tracefs-still; exit 9; fi; "
                  f"exec {tool('syslat')} -p {w.pid} --json poll")
        p = self.start(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stderr.readline()  # the banner: attached
        self.assertTrue(line.startswith("Tracing"), line)
        w.go()
        w.finish()
        out = p.stdout.read()
        self.assertEqual(p.wait(30), 0)
        (poll,) = rows(summary(out), "poll")
        self.assertEqual(poll["count"], 3)

    def test_cgroup_filter(self):
        with open("/proc/self/mounts") as f:
            mount = next(l.split()[1] for l in f if l.split()[2] == "cgroup2")
        group = os.path.join(mount, f"stallkit-test-{os.getpid()}")
        os.mkdir(group)
        self.addCleanup(os.rmdir, group)
        inside = self.workload("poll:4:10")
        outside = self.workload("poll:3:10")
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(inside.pid))
        t = self.tracer("syslat", "--cgroup", group, "-d", "3s", "--json", "poll")
        inside.go()
        outside.go()
        inside.finish()
        outside.finish()
        doc = summary(t.finish()[1])
        self.assertEqual(sum(r["count"] for r in rows(doc, "poll")), 4)

    def test_comm_filter(self):
        name = f"sk{os.getpid() % 100000}w"
        mine = self.workload("poll:4:10", argv0=name)
        other = self.workload("poll:3:10", argv0=name + "x")
        t = self.tracer("syslat", "--comm", name, "-d", "3s", "--json", "-P", "poll")
        mine.go()
        other.go()
        mine.finish()
        other.finish()
        doc = summary(t.finish()[1])
        self.assertEqual([(r["pid"], r["comm"], r["count"]) for r in rows(doc, "poll")],
                         [(mine.pid, name, 4)])

    def test_intervals_add_up(self):
        w = self.workload("poll:30:50")
        t = self.tracer("syslat", "-p", str(w.pid), "-i", "500ms", "--json", "poll")
        w.go()
        w.finish()
        docs = json_documents(t.finish()[1])
        intervals = [d for d in docs if d["type"] == "interval"]
        self.assertGreaterEqual(len(intervals), 2)
        self.assertEqual(docs[-1]["type"], "summary")
        total = sum(r["count"] for d in docs for r in rows(d, "poll"))
        self.assertEqual(total, 30)


class SyslatBadInput(Test):
    def test_nonexistent_pid(self):
        for pid in (self.unused_pid(), 999999999):
            rc, out, err = self.run_tool("syslat", "-p", str(pid))
            self.assertEqual(rc, 1, err)
            self.assertEqual(err, f"syslat: no process with PID {pid}\n")
            self.assertEqual(out, "")

    def test_nonexistent_pid_with_a_capture_leaves_no_file(self):
        """The capture's temporary file, made before tracing, is removed when tracing cannot
        start."""
        rc, out, err = self.run_tool("syslat", "-p", str(self.unused_pid()), "-o",
                                     os.path.join(self.tmp.name, "a.cap"))
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"^syslat: no process with PID \d+\n$")
        self.assertEqual(os.listdir(self.tmp.name), [])

    def unused_pid(self):
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        for pid in range(pid_max - 1, 1, -1):
            if not os.path.exists(f"/proc/{pid}"):
                return pid
        self.fail("no free PID")

    def test_thread_id_given_as_pid(self):
        w = self.workload("thread-poll:1:3000", wait=False)
        for _ in range(100):
            if "tid thread-poll" in w.facts():
                break
            time.sleep(0.05)
        tid = w.facts()["tid thread-poll"][0]
        rc, out, err = self.run_tool("syslat", "-p", str(tid))
        self.assertEqual(rc, 1)
        self.assertIn(f"{tid} is a thread of process {w.pid}", err)

    def test_unknown_syscall(self):
        rc, out, err = self.run_tool("syslat", "pol")
        self.assertEqual(rc, 2)
        self.assertIn("unknown syscall 'pol'", err)
        self.assertIn("poll", err.split("did you mean")[1])

    def test_malformed_values(self):
        for args, message in ((["-d", "5x"], "invalid duration '5x'"),
                              (["-d", "-1"], "invalid duration '-1'"),
                              (["-i", "0"], "invalid interval '0'"),
                              (["--min", "fast"], "invalid --min 'fast'"),
                              (["-T", "1a"], "invalid -T '1a'"),
                              (["-p", "12abc"], "invalid PID list '12abc'"),
                              (["-e", "EFOO"], "unknown errno 'EFOO'"),
                              (["exit_group"], "exit_group never returns"),
                              (["-p", "1", "-t", "1"], "-p and -t cannot be combined")):
            with self.subTest(args=args):
                rc, out, err = self.run_tool("syslat", *args)
                self.assertEqual(rc, 2, f"{args}: {err}")
                self.assertTrue(err.startswith(f"syslat: {message}"), err)
                self.assertEqual(out, "")

    def test_no_privileges(self):
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            tool("syslat"), "-d", "1"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("syslat: lacks CAP_BPF and CAP_PERFMON", p.stderr)
        self.assertIn("stallcheck says what this user lacks", p.stderr)

    def test_list(self):
        rc, out, err = self.run_tool("syslat", "-l")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"(?m)^ +7  poll$" if os.uname().machine == "x86_64" else "poll")


if __name__ == "__main__":
    unittest.main()
