# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Python frames in the stacks of Debian's /usr/bin/python3 (3.11, stripped, no frame
pointers), without restarting it or any flag: pywork.py blocks and burns CPU in named,
nested functions, logs how long, and marks each line that calls on towards a stall, so the
test knows every frame's function and line in advance."""
import os
import re

import runtimes
from harness import Test, json_documents

PYWORK = os.path.join(runtimes.WORKLOADS, "pywork.py")
PYTHON = "/usr/bin/python3"
FRAMED_SHARE = 0.95    # of the off-CPU time with the Python frames, in order, with their lines
ZONE = "stallkit.test"

# the Python functions from each stall to the module, innermost first
CHAINS = {
    "sleep": ["inner_sleep", "middle_sleep", "outer_sleep", "run_step", "main", "<module>"],
    "socket": ["read_reply", "wait_reply", "ask_peer", "socket_step", "run_step", "main",
               "<module>"],
    "getaddrinfo": ["resolve_name", "lookup_host", "run_step", "main", "<module>"],
    "go": ["wait_for_go", "main", "<module>"],
}


def expected_frames(chain):
    return runtimes.expected_frames(PYWORK, chain)


def python_frames(stack, file=None):
    """[(function, line)] of the Python frames (those of file, if given), innermost first"""
    return runtimes.runtime_frames(stack, "python", file)


def pywork_frames(stack):
    return python_frames(stack, "/pywork.py")


def PyWork(test, steps, prefix=()):
    """pywork.py started (through prefix if given) and waiting for go()"""
    return runtimes.ScriptWork(test, [PYTHON, PYWORK] + list(steps), "PYWORK_LOG", prefix)


class RuntimePython(Test):
    def trace(self, tool, steps, *args, prefix=()):
        """The steps under the tool with -p, from before they start until the process exits:
        (the workload, the tool's JSON documents)"""
        w = PyWork(self, steps, prefix)
        t = self.tracer(tool, "-p", str(w.pid), "--json", *args)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        return w, json_documents(out)

    def assertFramedShare(self, doc, pid, chains):
        """At least 95% of the process's off-CPU time is in stacks whose Python frames (of
        pywork.py: the library's own, such as socket.py's, may come above them) are one of
        the chains, in order, with their lines; returns {chain: ns}"""
        expected = {tuple(expected_frames(CHAINS[c])): c for c in chains}
        mine = [s for s in doc["stacks"] if s["pid"] == pid]
        total = sum(s["total_ns"] for s in mine)
        framed = {c: 0 for c in chains}
        for s in mine:
            chain = expected.get(tuple(pywork_frames(s["user_stack"])))
            if chain:
                framed[chain] += s["total_ns"]
        others = sorted(((s["total_ns"], python_frames(s["user_stack"])) for s in mine
                         if tuple(pywork_frames(s["user_stack"])) not in expected),
                        reverse=True)[:5]
        self.assertGreaterEqual(sum(framed.values()), FRAMED_SHARE * total,
                                f"framed {framed} of {total} ns; others: {others}")
        return framed

    def test_offcputime_sleep_socket_and_lookup(self):
        """Nested functions sleeping, waiting on a socket and resolving a name (through the
        test's own DNS server, 200 ms late): the Python functions in order with their lines
        for 95% of the off-CPU time, each stall's blocked time at least 90% of what the
        workload logged around it."""
        ns = self.dns_namespace()
        name = f"d200.ok.{ZONE}"
        w, (doc,) = self.trace("offcputime",
                               ["sleep:4:100", "socket:3:150", f"getaddrinfo:2:{name}"],
                               prefix=ns.exec_prefix())
        facts = w.facts()
        framed = self.assertFramedShare(doc, w.pid, ["sleep", "socket", "getaddrinfo", "go"])
        runtimes.assert_stalls(self, framed, facts, {"sleep": "inner_sleep",
                                                     "socket": "read_reply",
                                                     "getaddrinfo": "resolve_name"},
                               doc, "python_")

    def test_no_runtime_frames_shows_the_interpreter(self):
        """--no-runtime-frames: no Python frame, the evaluation loop where they were."""
        w, (doc,) = self.trace("offcputime", ["sleep:3:100"], "--no-runtime-frames")
        stacks = [s["user_stack"] for s in doc["stacks"] if s["pid"] == w.pid]
        self.assertTrue(stacks)
        for stack in stacks:
            self.assertEqual(python_frames(stack), [])
        self.assertTrue(any("_PyEval_EvalFrameDefault" in [f["function"] for f in stack]
                            for stack in stacks))

    def test_text_names_the_functions_and_lines(self):
        """The text report: "inner_sleep at .../pywork.py:LINE [python]" in the stack."""
        w = PyWork(self, ["sleep:3:100"])
        t = self.tracer("offcputime", "-p", str(w.pid))
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        for function, line in expected_frames(CHAINS["sleep"]):
            self.assertRegex(out,
                             rf"\n\s+{re.escape(function)} at \S*pywork\.py:{line} \[python\]\n")

    def test_dnsblock_shows_the_python_caller(self):
        """dnsblock --stacks: each lookup's stack has the Python functions that asked for it."""
        ns = self.dns_namespace()
        name = f"d100.ok.{ZONE}"
        w, docs = self.trace("dnsblock", [f"getaddrinfo:2:{name}"], "--stacks",
                             prefix=ns.exec_prefix())
        lookups = [d for d in docs if d["type"] == "lookup"]
        self.assertEqual(len(lookups), 2)
        for lookup in lookups:
            self.assertEqual(pywork_frames(lookup["stack"]), expected_frames(CHAINS["getaddrinfo"]))
            # socket.getaddrinfo, in the library, calls the C function
            self.assertEqual(python_frames(lookup["stack"], "/socket.py")[0][0], "getaddrinfo")

    def test_stallcheck_says_the_runtime_is_supported(self):
        """stallcheck -p: the interpreter, its version, and that its frames are named."""
        w = PyWork(self, [])
        rc, out, err = self.run_tool("stallcheck", "-p", str(w.pid), "--json")
        self.assertEqual(rc, 0, err)
        runtime = json_documents(out)[0]["process"]["runtime"]
        self.assertRegex(runtime["what"], r"^CPython 3\.11\.\d+: supported$")
        self.assertTrue(runtime["frames_named"])
        self.assertEqual(os.path.realpath(runtime["binary"]), os.path.realpath(PYTHON))
        w.go()
        self.assertEqual(w.finish(), 0)

    def test_profile_shares_by_python_function(self):
        """CPU burned 3:1 in two Python functions: each one's share of the samples within 5
        points of its share of the CPU time the thread measured."""
        w = PyWork(self, ["burn:4"])
        t = self.tracer("profile", "-F", "99", "-p", str(w.pid), "--json")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        facts = w.facts()
        samples = runtimes.samples_by_function(doc, w.pid, python_frames,
                                           ["burn_heavy", "burn_light"])
        for s in doc["stacks"]:
            frames = python_frames(s["user_stack"])
            if frames and frames[0][0] in samples:
                self.assertEqual([f for f, _ in frames[1:]],
                                 ["burn", "run_step", "main", "<module>"])
        runtimes.assert_cpu_shares(self, samples, facts, "burn_heavy", "burn_light", 99)

if __name__ == "__main__":
    import unittest
    unittest.main()
