# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The user-stack unwinder on code built without frame pointers: a C++ workload of ours
(-O2 -fomit-frame-pointer, 40 frames deep, in recursion, under a signal handler) and Debian's
own python3.  Off-CPU time must reach the thread's root, the frames must be exactly those the
workload logged, none may lie outside a mapping, and where unwinding cannot go on the stack
ends with a mark that the footer counts by module."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

from harness import Test, json_documents

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
TOLERANCE = 0.05
MS = 1_000_000
ZONE = "stallkit.test"
ROOTS = {"_start", "__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main",
         "start_thread", "clone", "__clone", "clone3", "__clone3"}
OURS = re.compile(r"(deep::[A-Za-z_]+(?:<\d+>)?)\(")
EXEC_SYNC_JS = """
const cp = require('child_process');
process.stdout.write('ready\\n');
require('fs').readSync(0, Buffer.alloc(1));
for (let i = 0; i < 20; i++) cp.execSync('sleep 0.05');
"""
NESTED_PY = """
import sys, time
def inner(n):
    time.sleep(0.02)
def middle(n):
    inner(n)
def outer(n):
    for i in range(n):
        middle(i)
print("ready", flush=True)
sys.stdin.readline()
outer(int(sys.argv[1]))
"""


def names(frames):
    return [f["function"] for f in frames]


def reaches_root(stack):
    return bool(stack) and stack[-1]["function"] in ROOTS


def ours(frames):
    """Our own functions in a user stack (innermost first), as the workload names them."""
    found = (OURS.search(f["function"] or "") for f in frames)
    return [m.group(1) for m in found if m]


def frames_outside_mappings(doc, key="user_stack"):
    """Machine frames in no mapping (an interpreter's frames have none: they are Python's)"""
    return [f for s in doc["stacks"] for f in s[key]
            if not f["module"] and f["kind"] in ("native", "kernel")]


class Unwind(Test):
    def assertMostlyComplete(self, doc):
        """At least 99% of the off-CPU time with a user stack up to the thread's root, and no
        frame outside a mapping."""
        self.assertEqual(frames_outside_mappings(doc), [])
        total = sum(s["total_ns"] for s in doc["stacks"])
        complete = sum(s["total_ns"] for s in doc["stacks"] if reaches_root(s["user_stack"]))
        self.assertGreaterEqual(complete, 0.99 * total,
                                [names(s["user_stack"]) for s in doc["stacks"]])

    def offcputime_until_exit(self, argv):
        """offcputime -p --json -U of a program that says "ready" and starts on a line of
        stdin, until it exits: the report."""
        p = self.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.stdout.readline().strip(), "ready")
        t = self.tracer("offcputime", "-p", str(p.pid), "--json", "-U")
        p.stdin.write("\n")
        p.stdin.close()
        self.assertEqual(p.wait(60), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        return doc

    def build(self, source, name, *flags):
        self.require_programs("gcc", "g++", "objcopy")
        out = os.path.join(self.tmp.name, name)
        compiler = "g++" if source.endswith(".cpp") else "gcc"
        subprocess.run([compiler, "-O2", "-g", "-pthread", *flags, "-o", out,
                        os.path.join(FIXTURES, source)], check=True)
        return out

    def deepwork(self, *scenarios, delete=False):
        """deepwork started and ready (its file deleted then, if asked): (process, its log)."""
        binary = self.build("deepwork.cpp", "deepwork", "-fomit-frame-pointer")
        log = os.path.join(self.tmp.name, "deepwork.log")
        p = self.start([binary, log, *scenarios], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)
        self.assertTrue(p.stdout.readline().startswith("ready"))
        if delete:
            os.unlink(binary)
        return p, log

    def facts(self, log):
        """{scenario: (tid, [our frames, outermost first], [block ns])}"""
        facts = {}
        with open(log) as f:
            for line in f:
                words = line.split()
                if words[0] == "frames":
                    facts[words[1]] = (int(words[2]), words[3:], [])
        with open(log) as f:
            for line in f:
                words = line.split()
                if words[0] == "block":
                    facts[words[1]][2].append(int(words[2]))
        return facts

    def trace_deepwork(self, tool, args, *scenarios, delete=False):
        p, log = self.deepwork(*scenarios, delete=delete)
        t = self.tracer(tool, "-p", str(p.pid), "--json", *args)
        p.stdin.write("\n")
        p.stdin.close()
        self.assertEqual(p.wait(60), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        return json_documents(out)[-1], self.facts(log)

    def test_cpp_without_frame_pointers(self):
        """Each scenario's blocks: our frames exactly as logged, to the thread's root, none
        outside a mapping; their time within 5% of what the workload measured, and at least
        99% of all off-CPU time with a complete stack."""
        doc, facts = self.trace_deepwork("offcputime", ["--per-thread", "-U"],
                                         "chain:10:40", "recursion:10:40", "signal:10:40")
        # the one rule not followed: the dynamic loader's lazy binding (_dl_runtime_resolve)
        # keeps its CFA in rbx; a thread preempted while it binds a symbol stops there, counted
        self.assertEqual([u for u in doc["unwind_stops"] if u["reason"] != "rule_not_supported"
                          or "/ld-linux" not in u["module"]], [])
        self.assertMostlyComplete(doc)
        for scenario, (tid, logged, blocks) in facts.items():
            with self.subTest(scenario=scenario):
                # its sleeps in poll (not a preemption on the way: R)
                mine = [s for s in doc["stacks"] if s["tid"] == tid and s["state"] == "S"
                        and names(s["user_stack"])[:2] == ["__GI___poll", "deep::block()"]]
                self.assertTrue(mine, [names(s["user_stack"]) for s in doc["stacks"]
                                       if s["tid"] == tid])
                for s in mine:
                    self.assertEqual(ours(s["user_stack"])[::-1], logged)
                    self.assertTrue(reaches_root(s["user_stack"]), names(s["user_stack"]))
                self.assertEqual(sum(s["count"] for s in mine), len(blocks))
                self.assertWithin(sum(s["total_ns"] for s in mine), sum(blocks), TOLERANCE)
        # the signal frame: the handler's caller is the trampoline, then the code interrupted
        (handled,) = [s for s in doc["stacks"] if s["tid"] == facts["signal"][0]
                      and s["state"] == "S"
                      and names(s["user_stack"])[:2] == ["__GI___poll", "deep::block()"]]
        frames = names(handled["user_stack"])
        self.assertEqual(frames[frames.index("deep::on_signal(int)") + 1], "__restore_rt")

    def test_deleted_binary(self):
        """A binary deleted after its process started is unwound and named all the same
        (through /proc/PID/map_files)."""
        doc, facts = self.trace_deepwork("offcputime", ["-U"], "chain:5:30", delete=True)
        (_, logged, blocks) = facts["chain"]
        mine = [s for s in doc["stacks"] if ours(s["user_stack"])[::-1] == logged
                and s["state"] == "S"]
        self.assertEqual(sum(s["count"] for s in mine), len(blocks))
        for s in mine:
            self.assertTrue(reaches_root(s["user_stack"]), names(s["user_stack"]))

    def test_syslat_stacks_without_frame_pointers(self):
        """syslat --stacks --min 10ms poll: the caller chain of each slow call, as logged."""
        doc, facts = self.trace_deepwork("syslat", ["--stacks", "--min", "10ms", "poll"],
                                         "chain:5:30", "recursion:5:30")
        self.assertEqual(doc["unwind_stops"], [])
        stacks = doc["stacks"]
        for scenario, (_, logged, blocks) in facts.items():
            with self.subTest(scenario=scenario):
                mine = [s for s in stacks if ours(s["user_stack"])[::-1] == logged]
                self.assertEqual(sum(s["count"] for s in mine), len(blocks),
                                 [names(s["user_stack"]) for s in stacks])
                for s in mine:
                    self.assertTrue(reaches_root(s["user_stack"]), names(s["user_stack"]))

    def test_syslat_short_lived_process(self):
        """syslat --stacks host-wide, a command that lives for one 50 ms sleep: its tables are
        asked for when the call begins, so its stack, taken when the call ends, is complete,
        and its frames are named although it is gone by the report."""
        nap = os.path.join(self.tmp.name, "stk-nap")
        os.symlink(shutil.which("sleep"), nap)
        t = self.tracer("syslat", "--stacks", "--min", "10ms", "--comm", "stk-nap", "--json",
                        "clock_nanosleep")
        subprocess.run([nap, "0.05"], check=True)
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        doc = json_documents(out)[-1]
        (s,) = doc["stacks"]
        self.assertEqual((s["comm"], s["count"]), ("stk-nap", 1))
        self.assertFalse(s["user_stack_truncated"], names(s["user_stack"]))
        self.assertEqual(names(s["user_stack"])[:2], ["__GI___clock_nanosleep", "__GI___nanosleep"])
        self.assertEqual(s["user_stack"][-1]["module"], os.path.realpath(shutil.which("sleep")))
        self.assertEqual(doc["unwind_stops"], [])

    def test_depth_limit_is_a_counted_mark(self):
        """Recursion 200 deep: 127 frames, then the depth mark, counted for the module."""
        doc, facts = self.trace_deepwork("offcputime", ["-U"], "recursion:3:30:200")
        deep = [s for s in doc["stacks"] if "deep::block()" in names(s["user_stack"])]
        self.assertTrue(deep)
        for s in deep:
            self.assertEqual(len(s["user_stack"]), 128)
            self.assertEqual(s["user_stack"][-1]["unwind_stop"], "depth_limit")
            self.assertTrue(s["user_stack_truncated"])
        (stop,) = [u for u in doc["unwind_stops"] if u["reason"] == "depth_limit"]
        self.assertTrue(stop["module"].endswith("/deepwork"), stop)
        self.assertEqual(stop["stacks"], sum(s["count"] for s in deep))

    def offcputime_of_reads(self, binary, env=None):
        """offcputime -p of binary (which prints a line, then reads standard input a byte at a
        time) while it blocks ten times in read(): its report and its stderr."""
        p = self.start([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        t = self.tracer("offcputime", "-p", str(p.pid), "--json", "-U", env=env)
        for _ in range(10):
            time.sleep(0.02)
            p.stdin.write("x")
            p.stdin.flush()
        p.stdin.close()
        self.assertEqual(p.wait(30), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        return doc, err

    def test_binary_without_unwind_info(self):
        """A binary stripped of .eh_frame: its frame is the last, then the named mark; the
        footer counts it for that binary; nothing is made up."""
        binary = self.build("target.c", "noinfo", "-fno-asynchronous-unwind-tables",
                            "-fno-unwind-tables")
        subprocess.run(["objcopy", "--remove-section=.eh_frame",
                        "--remove-section=.eh_frame_hdr", binary], check=True)
        doc, _ = self.offcputime_of_reads(binary)
        ends_in_binary = [x for x in doc["stacks"] if len(x["user_stack"]) > 1
                          and x["user_stack"][-2]["module"] == binary]
        (s,) = [x for x in ends_in_binary if x["state"] == "S"]
        self.assertEqual(s["user_stack"][-2]["function"], "main")
        self.assertEqual(s["user_stack"][-1]["unwind_stop"], "no_unwind_info")
        self.assertEqual(frames_outside_mappings(doc), [])
        (stop,) = [u for u in doc["unwind_stops"] if u["module"] == binary]
        self.assertEqual(stop["reason"], "no_unwind_info")
        # the reads' blocks, and any preemption on the way (R) with the same stack
        self.assertEqual(stop["stacks"], sum(x["count"] for x in ends_in_binary))

    def test_through_a_uretprobe(self):
        """While dnsblock's uretprobes watch getaddrinfo, the return address of getaddrinfo's
        frame is the kernel's trampoline: the stack goes on with the one it replaced."""
        ns = self.dns_namespace()
        w = self.dnswork(f"getaddrinfo:d300.ok.{ZONE}", ns=ns)
        dns = self.tracer("dnsblock", "-p", str(w.pid))
        t = self.tracer("offcputime", "-p", str(w.pid), "--json", "-U")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        dns.signal(signal.SIGINT)
        self.assertEqual(dns.finish()[0], 0)
        (doc,) = json_documents(out)
        found = [s for s in doc["stacks"] if "resolve_with_getaddrinfo" in names(s["user_stack"])
                 and s["total_ns"] > 250 * MS]
        self.assertEqual(len(found), 1, [(names(s["user_stack"]), s["total_ns"])
                                         for s in doc["stacks"]])
        (s,) = found
        frames = names(s["user_stack"])
        self.assertEqual(frames[frames.index("__GI_getaddrinfo") + 1], "resolve_with_getaddrinfo")
        self.assertEqual(frames[-1], "_start")
        # no stop but the one stallkit.7 names: a thread off-CPU while ld.so binds a symbol
        # (getaddrinfo loads the NSS modules), whose CFA rule the unwinder does not follow
        self.assertEqual([u for u in doc["unwind_stops"]
                          if (u["reason"], os.path.basename(u["module"] or "")) !=
                          ("rule_not_supported", "ld-linux-x86-64.so.2")], [])

    def test_debian_python3(self):
        """Debian's python3 (no frame pointers, stripped) sleeping in nested functions: at
        least 99% of its off-CPU time reaches _start, the Python functions in place of the
        interpreter's loop."""
        doc = self.offcputime_until_exit(["/usr/bin/python3", "-c", NESTED_PY, "40"])
        self.assertMostlyComplete(doc)
        sleeps = [s for s in doc["stacks"] if s["state"] == "S"
                  and "__GI___clock_nanosleep" in names(s["user_stack"])]
        self.assertEqual(sum(s["count"] for s in sleeps), 40)
        for s in sleeps:
            frames = names(s["user_stack"])
            python = [f["function"] for f in s["user_stack"] if f["kind"] == "python"]
            self.assertEqual(python, ["inner", "middle", "outer", "<module>"])
            self.assertNotIn("_PyEval_EvalFrameDefault", frames)
            self.assertEqual(frames[-1], "_start")

    def test_node_exec_sync(self):
        """node (V8: builtins without call frame information, JIT code) blocked in
        child_process.execSync: at least 99% of its off-CPU time reaches _start or the thread's
        start, through the JIT frames (V8 keeps frame pointers there)."""
        self.require_programs("node")
        doc = self.offcputime_until_exit(["node", "-e", EXEC_SYNC_JS])
        self.assertMostlyComplete(doc)
        spawn = [s for s in doc["stacks"]
                 if "node::SyncProcessRunner::Spawn(v8::FunctionCallbackInfo<v8::Value> const&)"
                 in names(s["user_stack"])]
        self.assertGreaterEqual(sum(s["total_ns"] for s in spawn), 20 * 50 * MS)
        for s in spawn:
            # into JavaScript and back (V8's builtins are named where the binary has symbols:
            # the nodesource build, not Debian's stripped libnode)
            frames = [f or "" for f in names(s["user_stack"])]
            self.assertTrue([f for f in frames if f.startswith("v8::internal::Execution::")],
                            frames)
            self.assertEqual(frames[-1], "_start")

    def test_redis_server_under_benchmark(self):
        """redis-server (no frame pointers, stripped, jemalloc's threads) under
        redis-benchmark: at least 99% of its off-CPU time reaches the thread's root."""
        self.require_programs("redis-server", "redis-benchmark")
        sock = os.path.join(self.tmp.name, "redis.sock")
        p = self.start(["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                        "--appendonly", "no", "--dir", self.tmp.name],
                       stdout=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        t = self.tracer("offcputime", "-p", str(p.pid), "--json", "-U")
        subprocess.run(["redis-benchmark", "-s", sock, "-n", "20000", "-c", "4", "-q",
                        "-t", "set,get"], check=True, stdout=subprocess.DEVNULL)
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (doc,) = json_documents(out)
        self.assertMostlyComplete(doc)
        (main,) = [s for s in doc["stacks"] if names(s["user_stack"])[0] == "epoll_wait"
                   and s["state"] == "S" and s["count"] > 1000]
        self.assertEqual(names(main["user_stack"])[-4:],
                         ["main", "__libc_start_call_main", "__libc_start_main_impl", "_start"])

    def stripped_target(self):
        """target.c built with debug information, then stripped of it: (the binary, its
        separate debug file in a directory of its own, its build-id)."""
        binary = self.build("target.c", "target")
        served = os.path.join(self.tmp.name, "served")
        os.mkdir(served)
        debug = os.path.join(served, "target.debug")
        subprocess.run(["objcopy", "--only-keep-debug", binary, debug], check=True)
        subprocess.run(["objcopy", "--strip-all", binary], check=True)
        notes = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True,
                               check=True).stdout
        build_id = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)
        return binary, served, build_id

    def trace_target(self, binary, env):
        """The target's frames of its blocks in read(), and offcputime's stderr."""
        doc, err = self.offcputime_of_reads(binary, env)
        (s,) = [s for s in doc["stacks"] if s["state"] == "S"
                and any(f["module"] == binary for f in s["user_stack"])]
        return [f for f in s["user_stack"] if f["module"] == binary], err

    def test_debuginfod(self):
        """A stripped binary whose debug file only a debuginfod server on 127.0.0.1 has:
        with DEBUGINFOD_URLS, its frames come out with function and file:line."""
        self.require_programs("debuginfod", "readelf")
        binary, served, build_id = self.stripped_target()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = self.start(["debuginfod", "-p", str(port), "-F", served, "-d",
                             os.path.join(self.tmp.name, "debuginfod.sqlite"), "-t", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):  # until it has scanned the directory
            try:
                urllib.request.urlopen(f"{url}/buildid/{build_id}/debuginfo", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.fail("debuginfod did not serve the debug file")
        env = dict(os.environ, DEBUGINFOD_URLS=url,
                   DEBUGINFOD_CACHE_PATH=os.path.join(self.tmp.name, "cache"))
        frames, _ = self.trace_target(binary, env)
        (main,) = [f for f in frames if f["function"] == "main"]
        self.assertTrue(main["file"].endswith("fixtures/target.c"), main)
        self.assertGreater(main["line"], 0)
        self.assertTrue(os.path.isdir(os.path.join(self.tmp.name, "cache", build_id)))
        server.terminate()

    def test_debuginfod_unreachable(self):
        """A server that accepts and never answers: the report still comes, the frames
        module+offset, and the tool says it gave up fetching."""
        binary, _, _ = self.stripped_target()
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            url = "http://127.0.0.1:%d" % silent.getsockname()[1]
            env = dict(os.environ, DEBUGINFOD_URLS=url,
                       DEBUGINFOD_CACHE_PATH=os.path.join(self.tmp.name, "cache"))
            frames, err = self.trace_target(binary, env)
        self.assertTrue(frames)
        for f in frames:
            self.assertIsNone(f["function"], f)
            self.assertGreater(f["module_offset"], 0)
        self.assertIn("debuginfod found nothing", err)

