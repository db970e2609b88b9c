# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What the tests of runtime frames share: a script workload (pywork.py, nodework.js) that
waits for go, logs its ground truth, and marks each line that calls on towards a stall with a
comment "frame: FUNCTION", so that a test knows every frame's function and line in advance."""
import os
import re
import subprocess

WORKLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workloads")


def marked_lines(path):
    """{function: [(line number, text)]} of the lines marked "frame: FUNCTION" """
    marks = {}
    with open(path) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"(#|//) frame: (\S+)$", text.rstrip())
            if m:
                marks.setdefault(m.group(2), []).append((number, text))
    return marks


def expected_frames(path, chain):
    """[(function, line)] innermost first: each function's marked line that calls the next
    inner one (the innermost's own marked line)"""
    marks = marked_lines(path)
    frames = []
    for i, function in enumerate(chain):
        lines = marks[function]
        if i:
            lines = [(n, t) for n, t in lines if re.search(rf"\b{re.escape(chain[i - 1])}\(", t)]
        (line, _), = lines
        frames.append((function, line))
    return frames


def runtime_frames(stack, kind, file=None):
    """[(function, line)] of the frames of that kind (and file, if given), innermost first"""
    return [(f["function"], f["line"]) for f in stack
            if f.get("kind") == kind and (not file or (f["file"] or "").endswith(file))]


class ScriptWork:
    """A script workload started (through prefix if given) and waiting for go(); its log
    variable names where it writes its ground truth"""

    def __init__(self, test, argv, log_variable, prefix=()):
        self.log = os.path.join(test.tmp.name, f"work-{len(os.listdir(test.tmp.name))}.log")
        self.proc = test.start(list(prefix) + list(argv), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, **{log_variable: self.log}))
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), line
        self.pid = int(line.split()[1])

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self):
        assert self.proc.stdout.readline() == "done\n"
        self.proc.stdin.close()
        return self.proc.wait(60)

    def facts(self):
        """{'block inner_sleep': [ns, ...], 'cpu burn_heavy': ns, ...}"""
        facts = {}
        if not os.path.exists(self.log):
            return facts
        with open(self.log) as f:
            for kind, function, ns in (line.split() for line in f):
                if kind == "block":
                    facts.setdefault(f"block {function}", []).append(int(ns))
                else:
                    facts[f"cpu {function}"] = int(ns)
        return facts


SHARE_POINTS = 0.05  # a function's share of the samples against its share of the CPU time


def assert_blocked_within(test, blocked_ns, logged_ns, what):
    """The blocked time under a stall's frames against the wall-clock time the workload logged
    around the same calls: never more, and at least 90% (the rest is the call's own CPU time:
    spawning a process, parsing an answer)"""
    test.assertLessEqual(blocked_ns, logged_ns, what)
    test.assertGreaterEqual(blocked_ns, 0.9 * logged_ns, what)


def assert_stalls(test, named, facts, stalls, doc, loss_prefix):
    """Each stall's blocked time under its chain (named: {chain: ns}) against what the workload
    logged for its function (stalls: {chain: function}), and the runtime frames that could not
    be read (unwind_stops whose reason begins with loss_prefix): counted, never guessed, at most
    1% of the named time"""
    for chain, function in stalls.items():
        assert_blocked_within(test, named[chain], sum(facts[f"block {function}"]), chain)
    lost = sum(s["total_ns"] for s in doc.get("unwind_stops", [])
               if s["reason"].startswith(loss_prefix))
    test.assertLessEqual(lost, 0.01 * sum(named.values()), doc.get("unwind_stops"))


def samples_by_function(doc, pid, frames_of, functions):
    """{function: samples} of the process's stacks by the innermost of its runtime frames
    (frames_of: [(function, line)] of a stack) that is one of functions (what those call, such
    as the workload's own clock reads, counts for them)"""
    samples = dict.fromkeys(functions, 0)
    for s in doc["stacks"]:
        names = [f for f, _ in frames_of(s["user_stack"]) if f in samples]
        if s["pid"] == pid and names:
            samples[names[0]] += s["count"]
    return samples


def assert_cpu_shares(test, samples, facts, heavy, light, hz):
    """heavy's share of the samples within 5 points of its share of the CPU time the workload
    measured, and the samples at least 90% of what hz gives for that time"""
    cpu_ns = facts[f"cpu {heavy}"] + facts[f"cpu {light}"]
    total = sum(samples.values())
    test.assertAlmostEqual(samples[heavy] / max(1, total), facts[f"cpu {heavy}"] / cpu_ns,
                           delta=SHARE_POINTS, msg=samples)
    test.assertGreater(total, 0.9 * hz * cpu_ns / 1e9, samples)
