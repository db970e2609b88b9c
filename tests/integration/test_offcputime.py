# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""offcputime against blockwork, whose threads block in named functions for times it measures
itself: each function's stack with its state class, totals within 5% of the ground truth."""
import json
import signal
import time

from harness import Test, json_documents

# What blockwork's scenarios block in: the function, the end of the name of the libc function
# it calls to block, and the state class
BLOCKERS = {
    "sleep": ("sleep_in_nanosleep", "nanosleep", "S"),
    "pipe": ("read_fed_pipe", "_read", "S"),
    "mutex": ("wait_for_mutex", "mutex_lock", "S"),
    "vfork": ("wait_for_vfork", "vfork", "D"),
}
SCENARIOS = ("sleep:10:50", "pipe:20:20", "mutex:10:30", "vfork:5:40")
TOLERANCE = 0.05
MS = 1_000_000


def function_names(frames):
    return [f["function"] for f in frames]


def stacks_in(doc, function, state=None):
    """The stacks whose user stack passes through function (in state, if given)."""
    return [s for s in doc["stacks"] if function in function_names(s.get("user_stack", []))
            and (state is None or s["state"] == state)]


def blocked_in(doc, scenario):
    """The stacks of the blocking call a scenario makes (not of its other blocks: a thread
    it joins, a page fault)."""
    function, call, state = BLOCKERS[scenario]
    found = []
    for s in stacks_in(doc, function, state):
        names = function_names(s["user_stack"])
        # leaf first: the function's callee is the frame before it
        if (names[names.index(function) - 1] or "").endswith(call):
            found.append(s)
    return found


def describe(doc):
    """The stacks of a report, a line each, for a failure's message."""
    return "\n".join(f"{s['count']} {s['total_ns']} {s['state']} "
                     + ";".join(f["function"] or hex(f.get("ip", 0))
                                for f in reversed(s.get("user_stack", [])))
                     for s in doc["stacks"]) + \
        f"\ninferred block ends: {doc['inferred_block_ends']}\nlost: {doc['lost']}"


def parse_folded(text):
    """Folded lines: [(frames, value)], frames starting with the command name."""
    lines = []
    for line in text.splitlines():
        stack, value = line.rsplit(" ", 1)
        lines.append((stack.split(";"), int(value)))
    return lines


class OffcputimeBlockwork(Test):
    def trace(self, *tracers, scenarios=SCENARIOS):
        """Runs blockwork under offcputime -p, once per argument list in tracers, until it
        exits: (the workload, [(returncode, stdout, stderr) of each tracer])."""
        w = self.blockwork(*scenarios)
        started = [self.tracer("offcputime", "-p", str(w.pid), *args) for args in tracers]
        w.go()
        self.assertEqual(w.finish(), 0)
        results = [t.finish() for t in started]
        for rc, _, err in results:
            self.assertEqual(rc, 0, err)
        return w, results

    def trace_json(self, *args, scenarios=SCENARIOS):
        w, [(_, out, _)] = self.trace(["--json", *args], scenarios=scenarios)
        (doc,) = json_documents(out)
        return w, doc

    def test_named_functions_states_and_totals(self):
        """Each blocking function's stack, its state class, its total within 5%."""
        w, doc = self.trace_json()
        facts = w.facts()
        self.assertEqual(doc["tool"], "offcputime")
        self.assertEqual(doc["end_reason"], "all traced processes exited")
        self.assertEqual({k: v for k, v in doc["lost"].items() if v}, {})
        for scenario in BLOCKERS:
            with self.subTest(scenario=scenario):
                stacks = blocked_in(doc, scenario)
                self.assertTrue(stacks, f"no stack of {scenario}: {BLOCKERS[scenario]}")
                total = sum(s["total_ns"] for s in stacks)
                self.assertWithin(total, sum(facts[scenario]), TOLERANCE, describe(doc))
                # a contended lock may be slept on more than once per lock call
                count = sum(s["count"] for s in stacks)
                if scenario == "mutex":
                    self.assertGreaterEqual(count, len(facts[scenario]))
                else:
                    self.assertEqual(count, len(facts[scenario]))
                for s in stacks:
                    self.assertEqual((s["pid"], s["comm"]), (w.pid, "blockwork"))
        # the user stack goes from the libc function that blocked up to the thread's start
        (sleep,) = blocked_in(doc, "sleep")
        names = function_names(sleep["user_stack"])
        caller = names.index("sleep_in_nanosleep")
        self.assertIn("nanosleep", "".join(names[:caller]))
        self.assertEqual(names[caller + 1:caller + 3], ["run_scenario", "start_thread"])
        self.assertIn("hrtimer_nanosleep", function_names(sleep["kernel_stack"]))
        (vfork,) = blocked_in(doc, "vfork")
        self.assertEqual(function_names(vfork["user_stack"])[0], "__vfork")
        # kernel stacks begin at the scheduler, without the tracer's frames
        for s in doc["stacks"]:
            self.assertEqual(s["kernel_stack"][0]["function"], "__schedule", s["kernel_stack"])
            self.assertLessEqual(s["max_ns"], s["total_ns"])

    def test_per_thread(self):
        """--per-thread splits the process by thread: the sleeper's blocks under its TID."""
        w, doc = self.trace_json("--per-thread", scenarios=("sleep:5:20", "pipe:10:10"))
        facts = w.facts()
        for scenario in ("sleep", "pipe"):
            tids = {s["tid"] for s in blocked_in(doc, scenario)}
            self.assertEqual(tids, {facts["tid " + scenario]})

    def test_state_filter(self):
        """--state D keeps the uninterruptible waits only: the vfork parent's."""
        w, doc = self.trace_json("--state", "D")
        facts = w.facts()
        self.assertEqual({s["state"] for s in doc["stacks"]}, {"D"})
        stacks = blocked_in(doc, "vfork")
        self.assertWithin(sum(s["total_ns"] for s in stacks), sum(facts["vfork"]), TOLERANCE)
        # the sleeps are not (the sleeper may wait in D elsewhere: writing its log to disk)
        self.assertEqual(blocked_in(doc, "sleep"), [])

    def test_min_block_time(self):
        """-m 30000 (µs) keeps the 50 ms sleeps and drops the 10 ms ones."""
        _, doc = self.trace_json("-m", "30000", scenarios=("sleep:4:50", "pipe:10:10"))
        (sleep,) = blocked_in(doc, "sleep")
        self.assertEqual(sleep["count"], 4)
        self.assertEqual(stacks_in(doc, "read_fed_pipe"), [])
        self.assertTrue(all(s["max_ns"] >= 30_000_000 for s in doc["stacks"]))

    def test_user_or_kernel_stacks_only(self):
        _, doc = self.trace_json("-U", scenarios=("sleep:3:20",))
        self.assertTrue(all(not s.get("kernel_stack") for s in doc["stacks"]))
        self.assertTrue(stacks_in(doc, "sleep_in_nanosleep"))
        _, doc = self.trace_json("-K", scenarios=("sleep:3:20",))
        self.assertTrue(all(not s.get("user_stack") for s in doc["stacks"]))
        self.assertTrue(any("do_nanosleep" in function_names(s["kernel_stack"])
                            for s in doc["stacks"]))

    def test_folded_against_ground_truth(self):
        """Folded lines (root first, µs): each blocking call's time within 5% of what the
        workload measured, under its caller."""
        w, [(_, folded, _)] = self.trace(["-f"])
        facts = w.facts()
        lines = parse_folded(folded)
        self.assertTrue(lines)
        for frames, value in lines:
            self.assertEqual(frames[0], "blockwork")
            self.assertIn("-", frames)
            self.assertGreater(value, 0)
            for frame in frames[1:]:
                self.assertNotIn("+0x", frame)
                self.assertTrue(frame)
        for scenario, (function, call, _) in BLOCKERS.items():
            with self.subTest(scenario=scenario):
                mine = [(frames, v) for frames, v in lines if function in frames and
                        frames[frames.index(function) + 1].endswith(call)]
                self.assertTrue(mine, f"no folded line of {function} calling {call}")
                self.assertWithin(sum(v for _, v in mine) * 1000, sum(facts[scenario]),
                                  TOLERANCE)
                for frames, _ in mine:
                    self.assertEqual(frames[frames.index(function) - 1], "run_scenario")

    def test_tiny_stack_storage_counts_lost_stacks(self):
        """--stack-storage-size 2: the lost stacks are counted, and the footer says what to
        raise; the time is still all there."""
        w, [(_, text, _), (_, out, _)] = self.trace(
            ["--stack-storage-size", "2"],
            ["--stack-storage-size", "2", "--json", "--per-thread"])
        facts = w.facts()
        (doc,) = json_documents(out)
        self.assertGreater(doc["lost"]["stack_map_full"], 0)
        # each stack lost is one that a counted block lacks, its user or its kernel stack
        missing = sum(s["count"] * ((not s.get("user_stack")) + (not s.get("kernel_stack")))
                      for s in doc["stacks"])
        self.assertEqual(doc["lost"]["stack_map_full"] + doc["lost"]["stack_read"], missing)
        footer = text[text.rindex("\nlost:"):]
        self.assertRegex(footer, r"lost: \d+ stacks lost: stack map full")
        self.assertIn("raise --stack-storage-size", footer)
        # blocks whose stacks were lost still count, under an entry without stacks: each
        # scenario's thread has all the time it blocked, and not much more (it also waits
        # for the log's lock, for a CPU, ...)
        for scenario in BLOCKERS:
            with self.subTest(scenario=scenario):
                mine = sum(s["total_ns"] for s in doc["stacks"]
                           if s["tid"] == facts["tid " + scenario])
                known = sum(facts[scenario])
                self.assertGreaterEqual(mine, known * (1 - TOLERANCE), describe(doc))
                self.assertLessEqual(mine, known * (1 + TOLERANCE) + 20 * MS, describe(doc))

    def test_intervals_add_up(self):
        """-i: interval reports, reset each time, add up to the whole."""
        w, [(_, out, _)] = self.trace(["--json", "-i", "200ms"], scenarios=("sleep:10:50",))
        facts = w.facts()
        docs = json_documents(out)
        self.assertGreaterEqual(len(docs), 3)
        self.assertEqual([d["type"] for d in docs[:-1]], ["interval"] * (len(docs) - 1))
        self.assertEqual(docs[-1]["type"], "summary")
        # each sleep is one S block; waking up, a thread may also wait for a CPU (R)
        sleeps = [s for d in docs for s in blocked_in(d, "sleep")]
        self.assertEqual(sum(s["count"] for s in sleeps), 10, json.dumps(docs, indent=1))
        self.assertWithin(sum(s["total_ns"] for s in sleeps), sum(facts["sleep"]), TOLERANCE)
        # the intervals tile the session: a report's printing time is in the next interval
        self.assertGreaterEqual(sum(d["duration_ns"] for d in docs), sum(facts["sleep"]))

    def test_text_report(self):
        """The BCC-like block: kernel frames, user frames, the process, state, time, count."""
        w, [(_, out, _)] = self.trace([], scenarios=("sleep:4:25",))
        blocks = out.split("\n\n")
        # the sleeps' block (the sleeper may also wait elsewhere: writing its log to disk)
        (sleep,) = [b for b in blocks if "sleep_in_nanosleep" in b and "do_nanosleep" in b]
        lines = sleep.splitlines()
        self.assertTrue(lines[0].strip().startswith("__schedule"))
        self.assertLess(next(i for i, l in enumerate(lines) if "do_nanosleep" in l),
                        next(i for i, l in enumerate(lines) if "sleep_in_nanosleep" in l))
        self.assertRegex(sleep, r"sleep_in_nanosleep at .*blockwork\.c:\d+")
        self.assertRegex(lines[-2], rf"-\s+blockwork \({w.pid}\)")
        self.assertRegex(lines[-1], r"^\s+S \d+ us in 4 blocks")
        self.assertIn("\nlost: none", out)


class OffcputimeStorm(Test):
    def test_fork_storm_then_long_block(self):
        """Host-wide, 20000 short-lived processes, then a thread that sleeps 300 ms: with -m,
        the storm creates no entries and the sleeper is there.  Stacks are taken when a block
        begins, so the storm's short blocks (and whatever else the host runs) use stack
        storage: it is sized so that they cannot crowd out the sleeper's."""
        w = self.blockwork("storm:20000:300")
        t = self.tracer("offcputime", "--json", "-m", "100000", "--stack-storage-size", "16384")
        w.go()
        self.assertEqual(w.finish(timeout=300), 0)
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        (after,) = stacks_in(doc, "block_after_storm")
        self.assertEqual(after["pid"], w.pid)
        self.assertEqual(after["count"], 1)
        self.assertWithin(after["total_ns"], w.facts()["storm"][0], TOLERANCE)
        self.assertEqual(doc["lost"]["aggregation_map_full"], 0)


class OffcputimeEnding(Test):
    def test_sigterm_leaves_a_complete_report(self):
        w = self.blockwork("sleep:40:50")
        t = self.tracer("offcputime", "-p", str(w.pid))
        w.go()
        time.sleep(1)
        t.signal(signal.SIGTERM)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("sleep_in_nanosleep", out)
        self.assertRegex(out, r"S \d+ us in \d+ blocks")
        self.assertIn("(terminated)", out)
        self.assertIn("\nlost: none", out)
        w.finish()

    def test_nonexistent_pid(self):
        rc, out, err = self.run_tool("offcputime", "-p", "2147483646", "1")
        self.assertEqual(rc, 1)
        self.assertIn("no process with PID 2147483646", err)
        self.assertEqual(out, "")

    def test_malformed_values(self):
        for args, message in ((["--state", "X"], "invalid --state"),
                              (["-m", "soon"], "invalid -m"),
                              (["-m", "10", "-M", "5"], "-m is more than -M"),
                              (["--stack-storage-size", "0"], "invalid --stack-storage-size"),
                              (["1x"], "invalid duration"),
                              (["-f", "--json"], "cannot be combined")):
            with self.subTest(args=args):
                rc, out, err = self.run_tool("offcputime", *args)
                self.assertEqual(rc, 2, err)
                self.assertIn(message, err)
                self.assertEqual(out, "")
