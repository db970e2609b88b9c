# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""offcputime --jvm-perfmap against BlockWork.java (OpenJDK 17+), whose threads block in named
methods for times it measures itself.

What a JVM's stacks can show: the JVM's own code and the C libraries come with unwind tables
and symbols; the code of Java methods is in anonymous memory (the code cache), with no unwind
tables and no names.  With -XX:+PreserveFramePointer its frames chain through rbp, and the
perf map that --jvm-perfmap asks the JVM for at the end of the window (Compiler.perfmap)
names each piece of the code cache: compiled methods by name ("long
BlockWork.innerSleep(int)"), and the interpreter as one blob, "Interpreter".  So:

- compiled methods: named, each its own frame (the fixture keeps them from being inlined:
  inlined methods have no frame of their own and the map does not list them);
- interpreted methods: a frame each, all named "Interpreter": which method an interpreted
  frame runs is in the frame itself (its Method*), which no map can tell.  The test records
  what it finds for them and asserts that much.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import BlockWorkload, Test, json_documents

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "..", "workloads", "java", "BlockWork.java")
JVM_OPTIONS = [
    "-Xbatch",  # warm-up compilations are done before the warm-up goes on
    "-XX:+PreserveFramePointer",  # compiled frames chain through rbp
    "-XX:CompileCommand=quiet",
    "-XX:CompileCommand=dontinline,BlockWork::*",
    "-XX:CompileCommand=exclude,BlockWork::interpreted*",
]
SCENARIOS = ("sleep:40:50", "read:40:50", "isleep:40:50")  # 2 s each, at the same time
WINDOW = "6s"  # the tracer's: the scenarios end well within it, the JVM lives on past it
TOLERANCE = 0.05
# The chains of named methods, leaf first, below the frame that blocks
SLEEP_CHAIN = ["BlockWork.innerSleep(", "BlockWork.middleSleep(", "BlockWork.outerSleep("]
READ_CHAIN = ["BlockWork.innerRead(", "BlockWork.middleRead(", "BlockWork.outerRead("]
# Where each scenario blocks: the native function, and the compiled native method above it
SLEEP_NATIVE = ("JVM_Sleep", "java.lang.Thread.sleep(")
READ_NATIVE = ("Java_sun_nio_ch_SocketDispatcher_read0", "sun.nio.ch.SocketDispatcher.read0(")


def names(frames):
    return [f["function"] or "" for f in frames]


def index_of(frames, part, start=0):
    """The index of the first frame from start whose function contains part, or -1."""
    for i, name in enumerate(names(frames)[start:], start):
        if part in name:
            return i
    return -1


def jit_stop_hint(stacks):
    """Why the frames above the first JIT frame are missing, if the unwinder stopped there."""
    if any(f.get("unwind_stop") == "jit" for _, frames in stacks for f in frames[2:3]):
        return ("\nthe unwinder stopped at the first frame in the JVM's code (unwind_stop jit): "
                "it has to walk a HotSpot process's code cache by frame pointers, as it does "
                "V8's (the JVM runs with -XX:+PreserveFramePointer)")
    return ""


def describe(doc):
    """The stacks of a report, a line each (root first), for a failure's message."""
    return "\n".join(f"{s.get('tid', s['pid'])} {s['count']} {s['total_ns']} {s['state']} "
                     + ";".join(f"{f['function'] or hex(int(f.get('addr', '0'), 16))}"
                                f"[{os.path.basename(f.get('module') or '')}]"
                                for f in reversed(s.get("user_stack", [])))
                     for s in doc["stacks"]) + f"\nlost: {doc['lost']}"


class JavaWorkload:
    """BlockWork with --wait: started, stopped before its scenarios until go(); says "done"
    when they have ended, and exits when finish() closes its stdin."""

    def __init__(self, test, classes, scenarios):
        self.log = os.path.join(test.tmp.name, "blockwork-java.log")
        env = dict(os.environ, BLOCKWORK_LOG=self.log)
        self.proc = test.start(["java", *JVM_OPTIONS, "-cp", classes, "BlockWork", "--wait",
                                *scenarios], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env)
        self.pid = self.proc.pid
        self.test = test
        # what the JVM leaves in /tmp: its perf map, and its attach socket if it is killed
        test.addCleanup(self.remove_files)
        line = self.proc.stdout.readline()  # after the warm-up: a few seconds
        test.assertEqual(line, f"ready {self.pid}\n")

    def remove_files(self):
        for name in (f"perf-{self.pid}.map", f".java_pid{self.pid}", f".attach_pid{self.pid}"):
            try:
                os.unlink(os.path.join("/tmp", name))
            except FileNotFoundError:
                pass

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def wait_done(self):
        self.test.assertEqual(self.proc.stdout.readline(), "done\n")

    def finish(self, timeout=60):
        self.proc.stdin.close()
        return self.proc.wait(timeout)

    # the ground truth, in blockwork's format: {'sleep': [ns of each block], 'tid sleep': tid}
    facts = BlockWorkload.facts

    def perf_map(self):
        """The names of the JVM's perf map (the methods it had compiled), or None."""
        try:
            with open(f"/tmp/perf-{self.pid}.map") as f:
                return [line.split(" ", 2)[2].rstrip("\n") for line in f]
        except FileNotFoundError:
            return None


class OffcputimeJava(Test):
    @classmethod
    def setUpClass(cls):
        cls.classes = None
        if not (shutil.which("java") and shutil.which("javac")):
            return  # setUp skips
        cls.build = tempfile.TemporaryDirectory(prefix="stallkit-java-")
        subprocess.run(["javac", "-d", cls.build.name, SOURCE], check=True)
        cls.classes = cls.build.name

    @classmethod
    def tearDownClass(cls):
        if cls.classes:
            cls.build.cleanup()

    def setUp(self):
        super().setUp()
        self.require_programs("java", "javac")

    def trace(self, *args, scenarios=SCENARIOS):
        """BlockWork under offcputime -p --per-thread --json for WINDOW, the JVM alive at its
        end: (the workload, the report)."""
        w = JavaWorkload(self, self.classes, scenarios)
        t = self.tracer("offcputime", "-p", str(w.pid), "--per-thread", "--json", *args, WINDOW)
        w.go()
        w.wait_done()
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(w.finish(), 0)
        (doc,) = json_documents(out)
        self.assertEqual(doc["end_reason"], "duration elapsed", describe(doc))
        return w, doc

    def blocked(self, doc, tid, native):
        """The stacks of thread tid that block in the native function, each cut to the frames
        from that function up (leaf first): [(stack, frames)]"""
        found = []
        for s in doc["stacks"]:
            frames = s.get("user_stack", [])
            at = index_of(frames, native)
            if s["tid"] == tid and at >= 0:
                found.append((s, frames[at:]))
        return found

    def assert_compiled_chain(self, doc, facts, scenario, native, chain):
        """All the time the scenario blocked is under the native function, and at least
        1 - TOLERANCE of it under the named compiled methods, one frame each, in order, in
        JIT code."""
        function, method = native
        known = sum(facts[scenario])
        stacks = self.blocked(doc, facts["tid " + scenario], function)
        self.assertWithin(sum(s["total_ns"] for s, _ in stacks), known, TOLERANCE,
                          describe(doc))
        named = 0
        for s, frames in stacks:
            # the compiled native method that called the native function: a JIT frame
            self.assertIn(method, frames[1]["function"] or "", describe(doc))
            self.assertEqual(frames[1]["module"], "[jit]")
            at = index_of(frames, chain[0])
            if at < 0:
                continue
            self.assertEqual([chain_part in (name or "") for chain_part, name in
                              zip(chain, names(frames)[at:at + len(chain)])],
                             [True] * len(chain), describe(doc))
            self.assertEqual({(f["module"], f["kind"]) for f in frames[at:at + len(chain)]},
                             {("[jit]", "java")})
            named += s["total_ns"]
        self.assertGreaterEqual(named, known * (1 - TOLERANCE),
                                f"{scenario}: {named} of {known} ns under "
                                f"{' <- '.join(chain)}{jit_stop_hint(stacks)}\n{describe(doc)}")

    def test_compiled_methods_named(self):
        """--jvm-perfmap: the JVM wrote its map at the end of the window, and the methods it
        had compiled name the frames: Thread.sleep's and the socket read's callers, three
        named methods deep, for all the time they blocked (within 5%)."""
        w, doc = self.trace("--jvm-perfmap")
        facts = w.facts()
        perf_map = w.perf_map()
        self.assertIsNotNone(perf_map, "the JVM wrote no /tmp/perf-PID.map")
        for part in SLEEP_CHAIN + READ_CHAIN:
            self.assertTrue(any(part in name for name in perf_map), part)
        # the interpreted methods were never compiled, as meant
        self.assertFalse(any("BlockWork.interpreted" in name for name in perf_map))
        with self.subTest(scenario="sleep"):
            self.assert_compiled_chain(doc, facts, "sleep", SLEEP_NATIVE, SLEEP_CHAIN)
        with self.subTest(scenario="read"):
            self.assert_compiled_chain(doc, facts, "read", READ_NATIVE, READ_CHAIN)

    def test_interpreted_frames(self):
        """What an interpreted method's frame shows: all the time is there, under the
        compiled Thread.sleep; above it the interpreter's frames, one per interpreted method
        (interpretedInnerSleep, interpretedOuterSleep, runScenario, ...), each named
        "Interpreter" and never the method's name, which only the frame itself holds."""
        w, doc = self.trace("--jvm-perfmap")
        facts = w.facts()
        stacks = self.blocked(doc, facts["tid isleep"], SLEEP_NATIVE[0])
        self.assertWithin(sum(s["total_ns"] for s, _ in stacks), sum(facts["isleep"]),
                          TOLERANCE, describe(doc))
        seen = set()
        for s, frames in stacks:
            seen.add(" <- ".join(f"{f['function']} [{os.path.basename(f['module'] or '')}]"
                                 for f in frames[:8]))
            self.assertIn(SLEEP_NATIVE[1], frames[1]["function"] or "", describe(doc))
            above = names(frames)[2:]
            self.assertFalse([n for n in above if "BlockWork.interpreted" in n])
            # interpretedInnerSleep and interpretedOuterSleep at least
            self.assertEqual(above[:2], ["Interpreter", "Interpreter"],
                             jit_stop_hint(stacks) + "\n" + describe(doc))
            self.assertEqual({f["module"] for f in frames[2:4]}, {"[jit]"})
        # recorded, for whoever reads the test's output
        print("\ninterpreted Java frames (leaf first):\n  " + "\n  ".join(sorted(seen)),
              file=sys.stderr)

    def test_without_option_no_names(self):
        """Without --jvm-perfmap nothing asks the JVM: no map, and the frames in its code
        cache have no name (module [anon])."""
        w, doc = self.trace(scenarios=("sleep:10:50",))
        facts = w.facts()
        self.assertIsNone(w.perf_map())
        stacks = self.blocked(doc, facts["tid sleep"], SLEEP_NATIVE[0])
        self.assertTrue(stacks, describe(doc))
        for _, frames in stacks:
            self.assertEqual((frames[1]["function"], frames[1]["module"]), (None, "[anon]"))


if __name__ == "__main__":
    unittest.main()
