# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""dnsblock against a real DNS server in a network namespace (dns_responder.py, whose answers
are chosen by the name: delayed, NXDOMAIN, SERVFAIL or never), with clients whose lookups are
known in advance: dnswork (libc's resolver functions called from named functions, timed by
itself), Python's socket.getaddrinfo and Node's dns.resolve4 (c-ares: no libc, the wire only).
The host's resolver is never touched."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from harness import DnsWorkload, Test, json_documents

TOLERANCE = 0.05   # latency against the workload's own measure of the same call
BLOCKED_SHARE = 0.9  # a lookup that waits on a slow server is blocked for almost all of it
MS = 1_000_000
ZONE = "stallkit.test"

NODE_RESOLVE4 = """
const dns = require('dns');
process.stdout.write('ready ' + process.pid + '\\n');
process.stdin.once('data', () => {
  const start = process.hrtime.bigint();
  dns.resolve4(process.argv[1], (err, addrs) => {
    const ns = process.hrtime.bigint() - start;
    process.stdout.write((err ? err.code : 'OK ' + addrs.length) + ' ' + ns + '\\n');
    process.exit(0);
  });
});
"""

PYTHON_GETADDRINFO = """
import os, socket, sys, time
sys.argv[1].encode("idna")  # its first use imports the codec: not part of the call timed
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
start = time.monotonic_ns()
n = len(socket.getaddrinfo(sys.argv[1], 80, socket.AF_INET, socket.SOCK_STREAM))
print("OK", n, time.monotonic_ns() - start, flush=True)
"""


def function_names(lookup):
    return [f["function"] for f in lookup.get("stack", [])]


class Dnsblock(Test):
    def setUp(self):
        super().setUp()
        self.ns = self.dns_namespace()

    def lookups_and_summary(self, out):
        docs = json_documents(out)
        self.assertEqual(docs[-1]["type"], "summary")
        self.assertEqual({k: v for k, v in docs[-1]["lost"].items() if v}, {})
        return [d for d in docs if d["type"] == "lookup"], docs[-1]

    def trace_dnswork(self, *steps, args=()):
        """dnswork's steps in the namespace under dnsblock -p --json until it exits:
        (its ground truth, lookups, summary)."""
        w = self.dnswork(*steps, ns=self.ns)
        t = self.tracer("dnsblock", "-p", str(w.pid), "--json", *args)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lookups, summary = self.lookups_and_summary(out)
        self.assertEqual(summary["end_reason"], "all traced processes exited")
        return w.facts(), lookups, summary

    def start_client(self, argv):
        """A client in the namespace that prints "ready PID", resolves on a line of stdin,
        and prints "RESULT N NS"."""
        p = self.start(self.ns.exec_prefix() + argv, stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        self.assertTrue(line.startswith("ready "), line)
        return p

    def run_client(self, p):
        p.stdin.write("\n")
        p.stdin.flush()
        result, n, ns = p.stdout.readline().split()
        self.assertEqual(p.wait(30), 0)
        return result, int(n), int(ns)

    def assertLatency(self, lookup, measured_ns, delay_ms=0):
        """A lookup's latency against what the workload measured around the same call: its
        clock reads enclose the probes', so the latency is never longer, and shorter by no
        more than 5% (1 ms for short calls: a thread may be preempted between the two).  The
        delay the server was asked for is a floor only: its Python timer fires late, never
        early, and by a few ms on a busy VM."""
        latency = lookup["latency_ns"]
        self.assertLessEqual(latency, measured_ns)
        self.assertGreaterEqual(latency, measured_ns - max(TOLERANCE * measured_ns, MS))
        self.assertGreaterEqual(latency, delay_ms * MS)

    def test_slow_getaddrinfo_once_with_name_result_blocked_and_caller(self):
        """A name answered after 250 ms: one lookup, OK with one address, latency within 5%,
        blocked for nearly all of it, its A and AAAA queries answered, the caller in the
        stack."""
        name = f"d250.ok.{ZONE}"
        cap = os.path.join(self.tmp.name, "dns.cap")
        facts, lookups, summary = self.trace_dnswork(f"getaddrinfo:{name}",
                                                     args=["--stacks", "-o", cap])
        (fact,) = facts
        (lookup,) = lookups
        self.assertEqual((lookup["name"], lookup["via"], lookup["result"], lookup["addresses"]),
                         (name, "getaddrinfo", "OK:1", 1))
        self.assertEqual(lookup["address_list"], ["10.0.0.1"])
        self.assertEqual(lookup["tid"], fact["tid"])
        self.assertLatency(lookup, fact["latency_ns"], 250)
        self.assertGreaterEqual(lookup["blocked_ns"], BLOCKED_SHARE * lookup["latency_ns"])
        self.assertLessEqual(lookup["blocked_ns"], lookup["latency_ns"])
        self.assertEqual(sorted((q["type"], q["outcome"], q["server"]) for q in lookup["queries"]),
                         [("A", "OK", "127.0.0.1"), ("AAAA", "OK", "127.0.0.1")])
        names = function_names(lookup)
        self.assertIn("resolve_with_getaddrinfo", names)
        self.assertIn("main", names)
        self.assertTrue(names[0].endswith("getaddrinfo"), names)
        # the summary: the name once, the process once
        (row,) = summary["names"]
        self.assertEqual((row["name"], row["count"], row["errors"]), (name, 1, 0))
        self.assertEqual(row["p50_ns"], lookup["latency_ns"])
        (proc,) = summary["processes"]
        self.assertEqual((proc["comm"], proc["count"]), ("dnswork", 1))
        # the capture: the lookup as one stack, its latency the value, the name its leaf
        rc, out, err = self.run_tool("stallreport", "--format", "json", cap)
        self.assertEqual(rc, 0, err)
        (row,) = json.loads(out)["stacks"]
        frames = [f["name"] for f in row["frames"]]
        self.assertEqual(frames[-1], f"[getaddrinfo {name}]")
        self.assertIn("resolve_with_getaddrinfo", frames)
        self.assertEqual((row["value"], row["count"]), (lookup["latency_ns"], 1))

    def test_nxdomain_and_timeout(self):
        """NXDOMAIN after 100 ms is EAI_NONAME with NXDOMAIN queries; a server that never
        answers is EAI_AGAIN after resolv.conf's 1 s, with TIMEOUT queries."""
        nx, drop = f"d100.nx.{ZONE}", f"x.drop.{ZONE}"
        facts, lookups, summary = self.trace_dnswork(f"getaddrinfo:{nx}", f"getaddrinfo:{drop}")
        self.assertEqual([f["result"] for f in facts], ["EAI_NONAME", "EAI_AGAIN"])
        self.assertEqual([(l["name"], l["result"]) for l in lookups],
                         [(nx, "EAI_NONAME"), (drop, "EAI_AGAIN")])
        self.assertLatency(lookups[0], facts[0]["latency_ns"], 100)
        self.assertLatency(lookups[1], facts[1]["latency_ns"], 1000)
        self.assertEqual({q["outcome"] for q in lookups[0]["queries"]}, {"NXDOMAIN"})
        self.assertEqual({q["outcome"] for q in lookups[1]["queries"]}, {"TIMEOUT"})
        self.assertEqual([r["errors"] for r in summary["names"]], [1, 1])
        self.assertEqual(summary["processes"][0]["errors"], 2)

    def test_other_libc_functions(self):
        """gethostbyname_r, gethostbyname (which calls gethostbyname_r: counted once),
        getnameinfo and res_query, each seen with its result and latency."""
        facts, lookups, _ = self.trace_dnswork(
            f"gethostbyname_r:d80.ok.{ZONE}", f"gethostbyname:d60-n3.ok.{ZONE}",
            "getnameinfo:10.0.0.1", f"res_query:d40.ok.{ZONE}", f"gethostbyname_r:d30.fail.{ZONE}")
        self.assertEqual([l["via"] for l in lookups], [f["api"] for f in facts])
        by_api = {l["via"] + ":" + l["name"]: l for l in lookups}
        gbr = by_api[f"gethostbyname_r:d80.ok.{ZONE}"]
        self.assertEqual(gbr["result"], "OK:1")
        self.assertLatency(gbr, facts[0]["latency_ns"], 80)
        gb = by_api[f"gethostbyname:d60-n3.ok.{ZONE}"]
        self.assertEqual((gb["result"], gb["address_list"]),
                         ("OK:3", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]))
        self.assertLatency(gb, facts[1]["latency_ns"], 60)
        gni = by_api["getnameinfo:10.0.0.1"]
        self.assertEqual((gni["result"], gni["answer"]), ("OK:1", f"host1.{ZONE}"))
        self.assertLatency(gni, facts[2]["latency_ns"])
        self.assertEqual([q["type"] for q in gni["queries"]], ["PTR"])
        rq = by_api[f"res_query:d40.ok.{ZONE}"]
        self.assertEqual((rq["result"], [q["type"] for q in rq["queries"]]), ("OK:1", ["A"]))
        self.assertLatency(rq, facts[3]["latency_ns"], 40)
        fail = by_api[f"gethostbyname_r:d30.fail.{ZONE}"]
        self.assertEqual(fail["result"], facts[4]["result"])
        self.assertEqual({q["outcome"] for q in fail["queries"]}, {"SERVFAIL"})

    def test_answer_over_tcp(self):
        """40 addresses do not fit a UDP answer: the resolver asks again over TCP, and the
        queries show both."""
        name = f"d20-n40.ok.{ZONE}"
        facts, (lookup,), _ = self.trace_dnswork(f"getaddrinfo:{name}")
        self.assertEqual(lookup["result"], f"OK:{facts[0]['naddr']}")
        self.assertEqual(facts[0]["naddr"], 40)
        protocols = {q["protocol"] for q in lookup["queries"] if q["type"] == "A"}
        self.assertEqual(protocols, {"udp", "tcp"})
        self.assertLatency(lookup, facts[0]["latency_ns"], 20)

    def test_threads_each_their_lookup(self):
        """Four threads resolving at once: four lookups, one per thread, each with its own
        queries."""
        facts, lookups, summary = self.trace_dnswork(f"threads:4:d150.ok.{ZONE}")
        self.assertEqual(sorted(l["tid"] for l in lookups), sorted(f["tid"] for f in facts))
        for l in lookups:
            self.assertEqual(l["result"], "OK:1")
            self.assertEqual(sorted(q["type"] for q in l["queries"]), ["A", "AAAA"])
        self.assertEqual(summary["names"][0]["count"], 4)

    def test_own_libc_deleted_as_in_a_container(self):
        """A process that maps a libc of its own, deleted since (reachable only through
        /proc/PID/map_files, as a container's is): its resolver calls are seen."""
        with open("/proc/self/maps") as f:
            libc = next(line.split()[-1] for line in f
                        if os.path.basename(line.split()[-1]).startswith("libc.so."))
        own = os.path.join(self.tmp.name, "lib")
        os.mkdir(own)
        shutil.copy(libc, own)
        name = f"d60.ok.{ZONE}"
        w = DnsWorkload(self, [f"getaddrinfo:{name}"], prefix=self.ns.exec_prefix() + [
            "env", f"LD_LIBRARY_PATH={own}"])
        with open(f"/proc/{w.pid}/maps") as f:
            self.assertIn(os.path.join(own, os.path.basename(libc)), f.read())
        shutil.rmtree(own)
        t = self.tracer("dnsblock", "-p", str(w.pid), "--json", "-v")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn(f"resolver probes on {own}", err)
        (lookup,), _ = self.lookups_and_summary(out)
        self.assertEqual((lookup["via"], lookup["name"], lookup["result"]),
                         ("getaddrinfo", name, "OK:1"))
        self.assertLatency(lookup, w.facts()[0]["latency_ns"], 60)

    def test_python_getaddrinfo(self):
        """Python's socket.getaddrinfo, with --stacks: the stack through the interpreter
        (Debian's, without frame pointers) to _start, the Python frames in place of the
        interpreter's loop (test_runtime_python.py tests them)."""
        name = f"d120-n2.ok.{ZONE}"
        p = self.start_client(["/usr/bin/python3", "-c", PYTHON_GETADDRINFO, name])
        t = self.tracer("dnsblock", "--json", "--stacks", "-p", str(p.pid))
        result, n, ns = self.run_client(p)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (lookup,), _ = self.lookups_and_summary(out)
        self.assertEqual((result, n), ("OK", 2))
        self.assertEqual((lookup["via"], lookup["name"], lookup["result"]),
                         ("getaddrinfo", name, "OK:2"))
        self.assertLatency(lookup, ns, 120)
        names = function_names(lookup)
        self.assertTrue(names[0].endswith("getaddrinfo"), names)
        self.assertIn("<module>", names)
        self.assertNotIn("_PyEval_EvalFrameDefault", names)
        self.assertEqual(names[-1], "_start")

    def test_curl_resolver_thread(self):
        """curl resolves in a thread of its own (libcurl's threaded resolver, no frame
        pointers): with --stacks the lookup's stack goes up to that thread's start."""
        self.require_programs("curl")
        name = f"d150.ok.{ZONE}"
        t = self.tracer("dnsblock", "--json", "--stacks", "--comm", "curl")
        subprocess.run(self.ns.exec_prefix() + ["curl", "-s", "--max-time", "2",
                                                f"http://{name}:9/"], timeout=30)
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lookups, summary = self.lookups_and_summary(out)
        (lookup,) = [l for l in lookups if l["name"] == name]
        self.assertEqual((lookup["via"], lookup["comm"]), ("getaddrinfo", "curl"))
        names = function_names(lookup)
        self.assertTrue((names[0] or "").endswith("getaddrinfo"),
                        [(f["function"], f["module"], f.get("unwind_stop"))
                         for f in lookup["stack"]])
        self.assertEqual(names[-2:], ["start_thread", "__clone3"])
        self.assertIn("libcurl", lookup["stack"][1]["module"])
        self.assertEqual(summary["unwind_stops"], [])

    def test_node_resolve4_on_the_wire(self):
        """c-ares never calls getaddrinfo: the lookup is seen on the wire, with its name, its
        result and its latency."""
        self.require_programs("node")
        name = f"d300.ok.{ZONE}"
        p = self.start_client(["node", "-e", NODE_RESOLVE4, name])
        t = self.tracer("dnsblock", "--json", "-p", str(p.pid))
        result, n, ns = self.run_client(p)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        (lookup,), _ = self.lookups_and_summary(out)
        self.assertEqual((result, n), ("OK", 1))
        self.assertEqual((lookup["via"], lookup["name"], lookup["result"], lookup["pid"]),
                         ("wire", name, "OK:1", p.pid))
        self.assertEqual([(q["type"], q["outcome"]) for q in lookup["queries"]], [("A", "OK")])
        # node measures from its call, before c-ares sends: the wire sees a little less, and
        # at least the server's delay
        self.assertLatency(lookup, ns, 300)

    def test_pid_filter_is_exact(self):
        """Two processes resolve the same names; -p sees only the one it names, all of its
        lookups."""
        steps = [f"getaddrinfo:d50.ok.{ZONE}", f"gethostbyname_r:d50.nx.{ZONE}"]
        traced = self.dnswork(*steps, ns=self.ns)
        other = self.dnswork(*steps, ns=self.ns)
        t = self.tracer("dnsblock", "-p", str(traced.pid), "--json")
        other.go()
        traced.go()
        self.assertEqual(other.finish(), 0)
        self.assertEqual(traced.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lookups, summary = self.lookups_and_summary(out)
        self.assertEqual(sorted((l["pid"], l["via"], l["name"]) for l in lookups),
                         sorted((traced.pid, f["api"], f["name"]) for f in traced.facts()))
        self.assertEqual([p["pid"] for p in summary["processes"]], [traced.pid])

    def test_text_lines_min_and_signal(self):
        """Text: one line per lookup of at least --min, the queries column, and on SIGINT the
        complete summary."""
        w = self.dnswork(f"getaddrinfo:d5.ok.{ZONE}", f"getaddrinfo:d200.nx.{ZONE}",
                         "sleep:60000", ns=self.ns)
        cap = os.path.join(self.tmp.name, "text.cap")
        t = self.tracer("dnsblock", "-p", str(w.pid), "--min", "100ms", "-o", cap)
        w.go()
        deadline = time.monotonic() + 30
        while len(self.ns.queries()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the second lookup's answer came 200 ms after its query
        t.signal(signal.SIGINT)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines[0].split()[:8] ==
                        ["TIME", "PID", "TID", "COMM", "LATENCY", "BLOCKED", "RESULT", "NAME"])
        # the 5 ms lookup has no line unless the VM stalled it past --min (its own clock says)
        if w.facts()[0]["latency_ns"] >= 100 * MS:
            self.assertIn(f"d5.ok.{ZONE}", lines[1])
            del lines[1]
        words = lines[1].split()
        self.assertEqual(words[1:4], [str(w.pid), str(w.pid), "dnswork"])
        self.assertEqual(words[6:9], ["EAI_NONAME", f"d200.nx.{ZONE}", "getaddrinfo"])
        self.assertEqual(words[9], "A=NXDOMAIN,AAAA=NXDOMAIN@127.0.0.1")
        self.assertEqual(lines[2], "")
        self.assertRegex(lines[3], r"^\d lookups? in .* \(of at least 100ms\); interrupted")
        self.assertIn(f"d200.nx.{ZONE}", out[out.index("NAME "):])
        self.assertRegex(out, r"\nlost: none\nended: interrupted\ncost: .*\n$")
        self.assertEqual(self.run_tool("stallreport", cap)[1], out)

    def test_bad_input(self):
        for args, code, message in ((["-p", "999999999"], 1, "no process with PID 999999999"),
                                    (["--min", "12abc"], 2, "invalid --min '12abc'"),
                                    (["-d", "0"], 2, "invalid duration"),
                                    (["--timeout", "soon"], 2, "invalid --timeout")):
            rc, out, err = self.run_tool("dnsblock", *args)
            self.assertEqual(rc, code, (args, err))
            self.assertIn(message, err, args)
            self.assertEqual(out, "", args)
