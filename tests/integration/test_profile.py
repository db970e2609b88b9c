# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""profile against cpuwork (built without frame pointers), which burns CPU in named functions
for CPU times it measures itself: shares, sample counts, complete stacks, and with --wall every
thread's time split into on-CPU and off-CPU."""
import os
import signal
import time

from harness import Test, json_documents

SHARE_TOLERANCE = 0.03  # percentage points of the samples
COUNT_TOLERANCE = 0.05
WALL_TOLERANCE = 0.02
NS = 1_000_000_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def function_names(frames):
    return [f["function"] for f in frames]


def samples_in(doc, function):
    return sum(s["count"] for s in doc["stacks"]
               if function in function_names(s.get("user_stack", [])))


def process_cpu_ns(pid):
    """utime + stime of /proc/PID/stat, in ns"""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * NS // CLOCK_TICKS


def describe(doc):
    return "\n".join(f"{s.get('tid', s['pid'])} {s['state']} {s.get('origin', '')} "
                     f"{s['count']} {s['total_ns']} "
                     + ";".join(f["function"] or "?" for f in reversed(s.get("user_stack", [])))
                     for s in doc["stacks"]) + f"\nlost: {doc['lost']}"


class ProfileCpuwork(Test):
    def profile(self, *args, scenarios):
        """Runs the scenarios under profile -p (the options given), from before they start to
        after they end: (the workload, returncode, stdout, stderr, the process's utime + stime
        over the scenarios)."""
        w = self.cpuwork(*scenarios)
        t = self.tracer("profile", "-p", str(w.pid), *args)
        before = process_cpu_ns(w.pid)
        w.go()
        w.wait_done()
        cpu_ns = process_cpu_ns(w.pid) - before
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(w.finish(), 0)
        return w, out, err, cpu_ns

    def test_ratio_samples_and_complete_stacks(self):
        """Two functions burning CPU 3:1 on one thread: their shares within 3 points, rate x
        CPU time samples within 5%, the process's utime + stime within 5%, every stack from
        main."""
        w, out, _, cpu_ns = self.profile("-F", "99", "--json", scenarios=("ratio:5",))
        facts = w.facts()
        (doc,) = json_documents(out)
        self.assertEqual(doc["tool"], "profile")
        three, one = samples_in(doc, "burn_three"), samples_in(doc, "burn_one")
        truth = facts["cpu burn_three"] / (facts["cpu burn_three"] + facts["cpu burn_one"])
        self.assertAlmostEqual(three / (three + one), truth, delta=SHARE_TOLERANCE,
                               msg=describe(doc))
        burned_ns = facts["cpu burn_three"] + facts["cpu burn_one"]
        mine = [s for s in doc["stacks"] if s["pid"] == w.pid]
        self.assertWithin(sum(s["count"] for s in mine), 99 * burned_ns / NS, COUNT_TOLERANCE,
                          describe(doc))
        self.assertWithin(sum(s["total_ns"] for s in mine), cpu_ns, COUNT_TOLERANCE,
                          describe(doc))
        for s in mine:
            self.assertEqual(s["state"], "on-cpu")
            names = function_names(s["user_stack"])
            self.assertIn("main", names, describe(doc))
            self.assertFalse(s["user_stack_truncated"])
            self.assertEqual(s["total_ns"], s["count"] * (NS // 99))
        self.assertEqual(doc["lost"]["stack_map_full"] + doc["lost"]["stack_read"], 0)
        self.assertTrue(doc["cost"]["known"])
        self.assertGreater(doc["cost"]["bpf_ns"], 0)
        self.assertGreaterEqual(doc["cost"]["bpf_runs"], sum(s["count"] for s in mine))

    def test_kernel_heavy_work(self):
        """A loop of write() to /dev/null: the kernel frames named, the user frames complete."""
        _, out, _, cpu_ns = self.profile("-F", "99", "--json", scenarios=("write:3",))
        (doc,) = json_documents(out)
        mine = [s for s in doc["stacks"]
                if "write_to_dev_null" in function_names(s["user_stack"])]
        total = sum(s["count"] for s in mine)
        in_kernel = [s for s in mine if s["kernel_stack"]]
        self.assertWithin(total, 99 * cpu_ns / NS, COUNT_TOLERANCE, describe(doc))
        # with mitigations a system call's entry and exit cost more than the write itself,
        # and the clock's interrupt often waits for interrupts to be enabled again
        kernel_samples = sum(s["count"] for s in in_kernel)
        self.assertGreater(kernel_samples, total // 4, describe(doc))
        # each kernel stack is whole, from a kernel entry: the system call, or an interrupt
        # that came while the thread ran in user mode (asm_sysvec_apic_timer_interrupt, ...);
        # but the kernel's own unwinder cannot leave a retpoline thunk (it has no ORC data
        # for it): a sample there is the thunk alone (in two runs out of about ten, one stack)
        in_thunk = 0
        for s in in_kernel:
            names = function_names(s["kernel_stack"])
            self.assertTrue(all(names), s["kernel_stack"])
            if len(names) == 1 and names[0].startswith("__x86_indirect_thunk_"):
                in_thunk += s["count"]
                continue
            self.assertTrue(names[-2:] == ["do_syscall_64", "entry_SYSCALL_64_after_hwframe"]
                            or names[-1].startswith("asm_"), names)
        self.assertLessEqual(in_thunk, max(1, kernel_samples // 20), describe(doc))
        in_syscall = sum(s["count"] for s in in_kernel
                         if function_names(s["kernel_stack"])[-1]
                         == "entry_SYSCALL_64_after_hwframe")
        self.assertGreater(in_syscall, kernel_samples // 2, describe(doc))
        self.assertTrue(any("ksys_write" in function_names(s["kernel_stack"])
                            for s in in_kernel), describe(doc))
        for s in mine:
            self.assertEqual(function_names(s["user_stack"])[-4:],
                             ["main", "__libc_start_call_main", "__libc_start_main_impl",
                              "_start"])

    def test_folded(self):
        """Folded lines, root first, the value a number of samples."""
        w, out, err, _ = self.profile("-F", "99", "-f", scenarios=("ratio:5",))
        facts = w.facts()
        lines = [line.rsplit(" ", 1) for line in out.splitlines()]
        self.assertTrue(lines)
        counts = {"burn_three": 0, "burn_one": 0}
        for stack, value in lines:
            frames = stack.split(";")
            self.assertEqual(frames[:3], ["cpuwork", "_start", "__libc_start_main_impl"])
            self.assertIn("main", frames)
            self.assertIn("-", frames)
            for name in counts:
                if name in frames:
                    counts[name] += int(value)
        truth = facts["cpu burn_three"] / (facts["cpu burn_three"] + facts["cpu burn_one"])
        self.assertAlmostEqual(counts["burn_three"] / sum(counts.values()), truth,
                               delta=SHARE_TOLERANCE)
        self.assertRegex(err, r"\ncost: [\d.]+% of \d+ CPUs while tracing \(BPF programs ")

    def test_sigterm_leaves_a_complete_report(self):
        w = self.cpuwork("ratio:10")
        t = self.tracer("profile", "-p", str(w.pid))
        w.go()
        time.sleep(1.5)
        t.signal(signal.SIGTERM)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("(terminated)", out)
        self.assertRegex(out, r"burn_three at .*cpuwork\.c:\d+")
        self.assertRegex(out, rf"-\s+cpuwork \({w.pid}\)\n\s+\d+ samples?\n")
        self.assertRegex(out, r"\nlost: ")
        self.assertRegex(out, r"\nended: terminated\ncost: [\d.]+% of \d+ CPUs while tracing ")


class ProfileWall(Test):
    def thread_times(self, doc):
        return {t["tid"]: t for t in doc["threads"]}

    def test_each_threads_time_from_start_to_end(self):
        """--wall across the threads' lives: each thread's on-CPU and off-CPU time add up to its
        lifetime, its on-CPU time its own CLOCK_THREAD_CPUTIME_ID, within 2% of its life."""
        w = self.cpuwork("wall:3")
        t = self.tracer("profile", "--wall", "--per-thread", "-F", "199", "--json", "-p",
                        str(w.pid))
        w.go()
        w.wait_done()
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(w.finish(), 0)
        (doc,) = json_documents(out)
        facts = w.facts()
        times = self.thread_times(doc)
        for name in ("burn_all_along", "sleep_all_along"):
            with self.subTest(thread=name):
                truth = facts["thread " + name]
                mine = times[truth["tid"]]
                life = truth["lifetime_ns"]
                self.assertWithin(mine["total_ns"], life, WALL_TOLERANCE, describe(doc))
                self.assertLessEqual(abs(mine["state_ns"]["on-cpu"] - truth["cpu_ns"]),
                                     WALL_TOLERANCE * life, describe(doc))
        # the main thread waited all along, and existed all along
        self.assertWithin(times[w.pid]["total_ns"], doc["duration_ns"], WALL_TOLERANCE)
        sleeps = sum(s["total_ns"] for s in doc["stacks"] if s["state"] == "S" and
                     "sleep_all_along" in function_names(s["user_stack"]))
        self.assertWithin(sleeps, facts["thread sleep_all_along"]["lifetime_ns"], 0.05)

    def test_a_window_inside_the_threads_lives(self):
        """Traced for 2 s of their 4: each thread's time adds up to the trace's, counting the
        sleep it was in when the trace began and the one it is in when it ends."""
        w = self.cpuwork("wall:4")
        w.go()
        time.sleep(0.5)
        t = self.tracer("profile", "--wall", "--per-thread", "-F", "199", "--json", "-p",
                        str(w.pid), "2")
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        w.wait_done()
        self.assertEqual(w.finish(), 0)
        (doc,) = json_documents(out)
        facts = w.facts()
        times = self.thread_times(doc)
        for name in ("burn_all_along", "sleep_all_along"):
            mine = times[facts["thread " + name]["tid"]]
            self.assertWithin(mine["total_ns"], doc["duration_ns"], WALL_TOLERANCE,
                              describe(doc))
        sleeper = times[facts["thread sleep_all_along"]["tid"]]
        self.assertGreater(sleeper["state_ns"]["S"], 0.95 * doc["duration_ns"])
        burner = times[facts["thread burn_all_along"]["tid"]]
        self.assertGreater(burner["state_ns"]["on-cpu"] + burner["state_ns"]["R"],
                           0.95 * doc["duration_ns"])
        # the sleep the trace began in: its kernel stack, and a user stack it never saw
        began = [s for s in doc["stacks"] if s.get("origin") == "before_trace" and
                 s["tid"] == facts["thread sleep_all_along"]["tid"]]
        self.assertEqual(len(began), 1, describe(doc))
        self.assertEqual(began[0]["user_stack"], [])
        self.assertIn("hrtimer_nanosleep", function_names(began[0]["kernel_stack"]))

    def test_folded_leaves_say_the_state(self):
        w = self.cpuwork("wall:2")
        t = self.tracer("profile", "--wall", "-f", "-p", str(w.pid))
        w.go()
        w.wait_done()
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        w.finish()
        burned_ns = w.facts()["thread burn_all_along"]["cpu_ns"]
        by_leaf = {}
        for line in out.splitlines():
            stack, value = line.rsplit(" ", 1)
            leaf = stack.split(";")[-1]
            by_leaf[leaf] = by_leaf.get(leaf, 0) + int(value)
        self.assertLessEqual(set(by_leaf), {"[on-cpu]", "[S]", "[D]", "[R]"})
        # microseconds: the burner's CPU time on a CPU, the sleeper's and the main thread's 2 s
        # asleep
        self.assertWithin(by_leaf["[on-cpu]"], burned_ns / 1000, COUNT_TOLERANCE)
        self.assertGreater(by_leaf["[S]"], 2 * 2_000_000 * 0.95)


class ProfileBadInput(Test):
    def test_bad_inputs(self):
        for args, status, message in (
                (["-F", "0", "1"], 2, "invalid -F"),
                (["-F", "10000000", "1"], 2, "perf_event_max_sample_rate"),
                (["-F", "99", "-c", "1000000", "1"], 2, "cannot be combined"),
                (["-c", "5", "1"], 2, "at most every 10000 ns"),
                (["-C", "4096", "1"], 2, "invalid -C"),
                (["--wall", "1"], 2, "--wall needs -p or -t"),
                (["--wall", "-p", "1", "-C", "0", "1"], 2, "--wall and -C cannot be combined"),
                (["-p", "2147483646", "1"], 1, "no process with PID 2147483646"),
                (["-f", "--json", "1"], 2, "cannot be combined"),
                (["soon"], 2, "invalid duration")):
            with self.subTest(args=args):
                rc, out, err = self.run_tool("profile", *args)
                self.assertEqual(rc, status, err)
                self.assertIn(message, err)
                self.assertEqual(out, "")
