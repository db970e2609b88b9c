# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""JavaScript functions in the stacks of node (v20, V8 11.3), without restarting it or any
flag: nodework.js blocks in child_process.execSync and in a readFileSync of a FIFO from named
functions three deep, and burns CPU in two named functions, logging how long.  Interpreted
frames have their line; compiled ones (baseline or optimized code) their function and script
only."""
import os

import runtimes
from harness import Test, json_documents

NODEWORK = os.path.join(runtimes.WORKLOADS, "nodework.js")
NAMED_SHARE = 0.95   # of the main thread's blocked time with the JavaScript functions, in order
MS = 1_000_000

# nodework.js's functions from each stall to the script's top level, innermost first
CHAINS = {
    "exec": ["innerExec", "middleExec", "outerExec", "runStep", "main", "(anonymous)"],
    "fifo": ["innerRead", "middleRead", "outerRead", "fifoStep", "runStep", "main",
             "(anonymous)"],
    "go": ["main", "(anonymous)"],
}


def nodework_frames(stack):
    return runtimes.runtime_frames(stack, "js", "/nodework.js")


def NodeWork(test, steps):
    return runtimes.ScriptWork(test, ["node", NODEWORK] + list(steps), "NODEWORK_LOG")


class RuntimeNode(Test):
    def setUp(self):
        super().setUp()
        self.require_programs("node")

    def trace(self, tool, steps, *args):
        """The steps under the tool with -p, from before they start until node exits: (the
        workload, the tool's JSON documents)"""
        w = NodeWork(self, steps)
        t = self.tracer(tool, "-p", str(w.pid), "--json", *args)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        return w, json_documents(out)

    def assertNamed(self, frames, chain, free=0):
        """The frames are the chain's (its outer part, if fewer) in order, each line the marked
        one where the frame was interpreted (0 where it ran compiled code) but for the free
        innermost ones"""
        expected = runtimes.expected_frames(NODEWORK, CHAINS[chain])[-len(frames):]
        self.assertEqual([f for f, _ in frames], [f for f, _ in expected])
        for (function, line), (_, marked) in list(zip(frames, expected))[free:]:
            self.assertIn(line, (0, marked), function)

    def assertNamedShare(self, stacks, chains):
        """At least 95% of the blocked time of the stacks is in stacks whose JavaScript
        functions (of nodework.js) are one of the chains, or its outer part (the workload's
        own steps between stalls: fifoStep starting the FIFO's writer); returns {chain: ns}
        of the whole chains"""
        total = sum(s["total_ns"] for s in stacks)
        named = {c: 0 for c in chains}
        outer = 0
        others = []
        for s in stacks:
            frames = nodework_frames(s["user_stack"])
            functions = [f for f, _ in frames]
            chain = next((c for c in chains if functions and
                          CHAINS[c][len(CHAINS[c]) - len(functions):] == functions), None)
            if not chain:
                others.append((s["total_ns"], runtimes.runtime_frames(s["user_stack"], "js")))
                continue
            whole = len(functions) == len(CHAINS[chain])
            # an innermost frame that is not the chain's, or of a thread preempted (R), may be
            # anywhere in its function
            self.assertNamed(frames, chain, 1 if s["state"] == "R" or not whole else 0)
            if whole:
                named[chain] += s["total_ns"]
            else:
                outer += s["total_ns"]
        self.assertGreaterEqual(sum(named.values()) + outer, NAMED_SHARE * total,
                                f"named {named} of {total} ns; others: "
                                f"{sorted(others, reverse=True)[:5]}")
        return named

    def main_thread(self, doc, pid):
        return [s for s in doc["stacks"] if s["pid"] == pid and s.get("tid") == pid]

    def test_offcputime_exec_sync_and_fifo(self):
        """execSync('sleep') and a readFileSync of a FIFO, each three named functions deep:
        the functions in order for 95% of the main thread's blocked time, each stall's blocked
        time at least 90% of what the workload logged around it."""
        w, (doc,) = self.trace("offcputime", ["exec:4:100", "fifo:3:150"], "--per-thread")
        facts = w.facts()
        named = self.assertNamedShare(self.main_thread(doc, w.pid), ["exec", "fifo", "go"])
        runtimes.assert_stalls(self, named, facts, {"exec": "innerExec", "fifo": "innerRead"},
                               doc, "js_")

    def test_text_names_the_functions(self):
        """The text report: "innerExec at .../nodework.js:LINE [js]", node's own modules too."""
        w = NodeWork(self, ["exec:3:100"])
        t = self.tracer("offcputime", "-p", str(w.pid))
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        for function, line in runtimes.expected_frames(NODEWORK, CHAINS["exec"])[:3]:
            self.assertRegex(out, rf"\n\s+{function} at \S*nodework\.js(:{line})? \[js\]\n")
        self.assertRegex(out, r"\n\s+execSync at node:child_process(:\d+)? \[js\]\n")

    def test_syslat_slow_calls_name_their_callers(self):
        """syslat --stacks --min: each slow wait of execSync (epoll_pwait in node 20's libuv,
        epoll_wait in Debian's node 18) and each slow open of the FIFO (until its writer opens
        it) has its JavaScript callers, three named functions deep."""
        w, docs = self.trace("syslat", ["exec:3:100", "fifo:3:150"], "--stacks", "--min",
                             "50ms", "epoll_pwait", "epoll_wait", "openat")
        stacks = [s for d in docs for s in d.get("stacks", []) if s["pid"] == w.pid]
        named = {}
        for s in stacks:
            functions = [f for f, _ in nodework_frames(s["user_stack"])]
            chain = next((c for c in ("exec", "fifo") if functions == CHAINS[c]), None)
            named[chain] = named.get(chain, 0) + s["count"]
        # every slow call named (a slow mkfifo, run by execFileSync, would be a third chain)
        unnamed = [s["user_stack"] for s in stacks if not nodework_frames(s["user_stack"])]
        self.assertEqual((named.get("exec"), named.get("fifo"), unnamed), (3, 3, []),
                         [nodework_frames(s["user_stack"]) for s in stacks])

    def test_profile_shares_by_function(self):
        """CPU burned 3:1 in two JavaScript functions (compiled by then): each one's share of
        the samples within 5 points of its share of the CPU time the process measured."""
        w, (doc,) = self.trace("profile", ["burn:4"], "-F", "99")
        facts = w.facts()
        samples = runtimes.samples_by_function(doc, w.pid, nodework_frames,
                                           ["burnHeavy", "burnLight"])
        runtimes.assert_cpu_shares(self, samples, facts, "burnHeavy", "burnLight", 99)

if __name__ == "__main__":
    import unittest
    unittest.main()
