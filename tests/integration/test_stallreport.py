# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Captures (-o) and stallreport: what the tools saw of workloads whose stalls are known, kept,
printed again, converted, drawn, merged and compared.

The reports stallreport prints must say what the tool said (text byte for byte) and what the
workload logged (per function, within 5%); go tool pprof and a browser read its files."""
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import BUILD, BlockWorkload, Test, Unprivileged, json_documents, tool

BLOCKERS = {"sleep": "sleep_in_nanosleep", "pipe": "read_fed_pipe", "mutex": "wait_for_mutex"}
SCENARIOS = ("sleep:10:50", "pipe:20:20", "mutex:10:30")
TOLERANCE = 0.05
ARTIFACTS = os.path.join(BUILD, "test-artifacts")


def stack_has(row, function):
    return any(f["name"] == function and not f["synthetic"] for f in row["frames"])


def function_total(doc, function):
    """stallreport --format json: the time of the rows whose stack passes through function"""
    return sum(r["value"] for r in doc["stacks"] if stack_has(r, function))


def ground_truth(w, scenario):
    return sum(w.facts()[scenario])


class StallreportMixin:
    def stallreport(self, *args, ok=True):
        rc, out, err = self.run_tool("stallreport", *args)
        if ok:
            self.assertEqual(rc, 0, err)
        return rc, out, err

    def report_json(self, *captures):
        return json.loads(self.stallreport("--format", "json", *captures)[1])


class Captures(StallreportMixin, Test):
    def capture(self, *scenarios, args=(), name="offcputime", workload=None):
        """offcputime -p -o on blockwork until it exits: (workload, capture path, stdout)"""
        w = workload or self.blockwork(*scenarios)
        cap = os.path.join(self.tmp.name, f"{name}-{w.pid}.cap")
        t = self.tracer("offcputime", "-p", str(w.pid), "-o", cap, *args)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, out, err = t.finish()
        self.assertEqual(rc, 0, err)
        return w, cap, out

    def test_text_folded_json_and_info(self):
        """The text is the tool's, byte for byte; folded totals are JSON's; each function's
        time is the workload's; the metadata says who, what, when and why."""
        w, cap, printed = self.capture(*SCENARIOS, args=("--tag", "commit=4f2a", "--tag",
                                                         "deploy=canary-3", "--reason",
                                                         "p99 of checkout"))
        self.assertEqual(os.stat(cap).st_mode & 0o777, 0o600)
        self.assertEqual(os.listdir(self.tmp.name).count(os.path.basename(cap)), 1)
        self.assertFalse([f for f in os.listdir(self.tmp.name) if f.startswith(".")])
        self.assertEqual(self.stallreport(cap)[1], printed)

        doc = self.report_json(cap)
        (tool_report,) = doc["captures"][0]["reports"]
        self.assertEqual(doc["total"], sum(s["total_ns"] for s in tool_report["stacks"]))
        self.assertEqual(doc["unit"], "nanoseconds")
        for scenario, function in BLOCKERS.items():
            with self.subTest(scenario=scenario):
                self.assertWithin(function_total(doc, function), ground_truth(w, scenario),
                                  TOLERANCE)
        folded = self.stallreport("--format", "folded", cap)[1].splitlines()
        self.assertEqual(sum(int(line.rsplit(" ", 1)[1]) for line in folded),
                         sum(r["value"] // 1000 for r in doc["stacks"]))
        self.assertTrue(all(line.startswith("blockwork;") for line in folded), folded)
        self.assertTrue(all(re.search(r";\[[SDR]\] \d+$", line) for line in folded), folded)

        info = self.stallreport("--info", cap)[1]
        for expected in ("tool:      offcputime", "reason:    p99 of checkout",
                         "tag:       commit=4f2a", "tag:       deploy=canary-3",
                         f"target:    pid {w.pid} (blockwork): ", "sleep:10:50 pipe:20:20",
                         "(all traced processes exited)", f"host:      {os.uname().nodename}",
                         f"kernel {os.uname().release}"):
            self.assertIn(expected, info)
        self.assertRegex(info, r"user:      \S+")

        # selections: the process, another process, the top row
        self.assertIn(f"blockwork ({w.pid})", self.stallreport("--pid", str(w.pid), cap)[1])
        self.assertIn("No stacks.", self.stallreport("--pid", "1", cap)[1])
        top = self.stallreport("--top", "1", "--format", "json", cap)[1]
        self.assertEqual(len(json.loads(top)["stacks"]), 1)
        # --tag selects captures
        rc, _, err = self.stallreport("--tag", "commit=other", cap, ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("no capture has the tags", err)

        # no privileges: a user who may read the file is all stallreport needs
        self.require_programs("setpriv")
        shared = tempfile.mkdtemp(prefix="stallkit-shared-")
        self.addCleanup(shutil.rmtree, shared)
        os.chmod(shared, 0o755)
        readable = shutil.copy(cap, shared)
        os.chmod(readable, 0o644)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            tool("stallreport"), readable], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, printed), p.stderr)

    def test_pprof_read_by_go_tool_pprof(self):
        """go tool pprof attributes to each blocking function the time the workload logged."""
        self.require_programs("go")
        w, cap, _ = self.capture(*SCENARIOS)
        pb = os.path.join(self.tmp.name, "offcpu.pb.gz")
        self.stallreport("--format", "pprof", "-o", pb, cap)
        env = dict(os.environ, HOME=self.tmp.name, GOCACHE=os.path.join(self.tmp.name, "gocache"),
                   GOTOOLCHAIN="local", PPROF_TMPDIR=self.tmp.name)
        top = subprocess.run(["go", "tool", "pprof", "-top", "-cum", "-unit=ms", "-nodecount=1000",
                              "-nodefraction=0", "-edgefraction=0", pb], capture_output=True,
                             text=True, env=env, timeout=120)
        self.assertEqual(top.returncode, 0, top.stderr)
        cum = {}
        for line in top.stdout.splitlines():
            m = re.match(r"\s*([\d.]+)(?:ms)?\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)ms\s+[\d.]+%\s+(\S+)", line)
            if m:
                cum[m.group(3)] = float(m.group(2)) * 1e6
        self.assertIn("Type: off_cpu", top.stdout)
        for scenario, function in BLOCKERS.items():
            with self.subTest(scenario=scenario):
                self.assertIn(function, cum, top.stdout)
                self.assertWithin(cum[function], ground_truth(w, scenario), TOLERANCE)
        tags = subprocess.run(["go", "tool", "pprof", "-tags", pb], capture_output=True,
                              text=True, env=env, timeout=120)
        self.assertEqual(tags.returncode, 0, tags.stderr)
        for label in ("comm", "state", "host", "pid"):
            self.assertRegex(tags.stdout, rf"(?m)^\s*{label}:", tags.stdout)
        self.assertIn("blockwork", tags.stdout)

    def test_speedscope_valid_by_the_packages_schema(self):
        """The speedscope file passes the schema of the speedscope npm package, and weighs
        each blocking function as the JSON does."""
        import speedscope_check

        _, cap, _ = self.capture(*SCENARIOS)
        doc = json.loads(self.stallreport("--format", "speedscope", cap)[1])
        self.assertEqual(speedscope_check.check(doc), [])
        names = [f["name"] for f in doc["shared"]["frames"]]
        report = self.report_json(cap)
        for function in BLOCKERS.values():
            with self.subTest(function=function):
                weight = sum(w for p in doc["profiles"]
                             for stack, w in zip(p["samples"], p["weights"])
                             if function in (names[i] for i in stack))
                self.assertEqual(weight, function_total(report, function))

    def test_flame_graph_in_a_browser(self):
        """The SVG, opened in headless Chromium: the workload's functions as frames whose
        widths are proportional to their time; search highlights; a click zooms."""
        self.require_programs("chromium")
        import flamegraph_browser

        w, cap, _ = self.capture(*SCENARIOS)
        svg = os.path.join(self.tmp.name, "offcpu.svg")
        self.stallreport("--format", "svg", "-o", svg, cap)
        doc = self.report_json(cap)
        os.makedirs(ARTIFACTS, exist_ok=True)
        flamegraph_browser.screenshot(svg, os.path.join(ARTIFACTS, "flamegraph.png"))
        shutil.copy(svg, os.path.join(ARTIFACTS, "flamegraph.svg"))

        seen = flamegraph_browser.inspect(svg, search="sleep_in_nanosleep",
                                          click="read_fed_pipe")
        root_width = seen["root"]["width"]
        for scenario, function in BLOCKERS.items():
            with self.subTest(scenario=scenario):
                width = sum(f["width"] for f in seen["frames"] if f["name"] == function)
                share = function_total(doc, function) / doc["total"]
                self.assertAlmostEqual(width / root_width, share, delta=0.01 * share + 1e-9)
        highlighted = {f["name"] for f in seen["search"]["highlighted"]}
        self.assertEqual(highlighted, {"sleep_in_nanosleep"})
        self.assertAlmostEqual(seen["search"]["matched_value"],
                               function_total(doc, "sleep_in_nanosleep"),
                               delta=0.001 * doc["total"])
        zoomed = [f for f in seen["click"]["frames"] if f["name"] == "read_fed_pipe"]
        self.assertTrue(zoomed)
        self.assertAlmostEqual(zoomed[0]["width"], seen["click"]["root"]["width"],
                               delta=0.01 * root_width)

    def test_diff_names_the_stall_that_grew(self):
        """The same workload twice, its sleeps 3x longer the second time: the diff says
        sleep_in_nanosleep grew by what the workload logged, and nothing else moved."""
        caps, works = [], []
        for sleep_ms in (40, 120):
            # a window of the same length on each run, as on a live service: the process
            # lives on past it (idle), and everything else ends within it
            w = self.blockwork(f"sleep:10:{sleep_ms}", "pipe:10:150", "idle:1:3000")
            cap = os.path.join(self.tmp.name, f"diff-{sleep_ms}.cap")
            t = self.tracer("offcputime", "-p", str(w.pid), "-o", cap, "2500ms")
            w.go()
            rc, _, err = t.finish()
            self.assertEqual(rc, 0, err)
            self.assertEqual(w.finish(), 0)
            caps.append(cap)
            works.append(w)
        grew = ground_truth(works[1], "sleep") - ground_truth(works[0], "sleep")
        diff = json.loads(self.stallreport("--diff", "--format", "json", *caps)[1])
        self.assertAlmostEqual(diff["scale"], 1.0, delta=0.02)
        change = {f["name"]: f for f in diff["functions"]}
        self.assertWithin(change["sleep_in_nanosleep"]["change"], grew, TOLERANCE,
                          json.dumps(diff["functions"][:10], indent=1))
        # the functions not on the sleeps' stacks did not move (the pipe's 1.5 s both times)
        for function in ("read_fed_pipe", "feed_pipe"):
            with self.subTest(function=function):
                f = change[function]
                self.assertLess(abs(f["change"]), 0.03 * f["base"] + 5e6, f)
        self.assertIn("sleep_in_nanosleep", diff["stacks"][0]["name"])
        self.assertWithin(diff["stacks"][0]["change"], grew, TOLERANCE)
        if len(diff["stacks"]) > 1:
            self.assertLess(abs(diff["stacks"][1]["change"]), 0.05 * grew, diff["stacks"][:3])
        text = self.stallreport("--diff", *caps)[1]
        self.assertRegex(text, r"\+\d[\d.]* ms\s+\+\d+%\s+sleep_in_nanosleep")
        svg = self.stallreport("--diff", "--format", "svg", *caps)[1]
        self.assertIn("sleep_in_nanosleep", svg)

    def test_captures_of_two_hosts_merge_with_host_labels(self):
        """A capture taken in another UTS namespace (another host name) merges with one of
        this host: each row says its host, the totals add up, --tag picks one host."""
        self.require_programs("unshare")
        here = os.uname().nodename
        other = f"stallkit-h2-{os.getpid()}"
        w1, cap1, _ = self.capture("sleep:10:30", args=("--tag", "side=a"))
        w2 = self.blockwork("sleep:10:30")
        cap2 = os.path.join(self.tmp.name, "other-host.cap")
        tracer = self.start(["unshare", "--uts", "sh", "-c",
                             f'hostname "$1" && exec "$2" -p "$3" -o "$4" --tag side=b',
                             "sh", other, tool("offcputime"), str(w2.pid), cap2],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        line = tracer.stderr.readline()
        self.assertTrue(line.startswith("Tracing"), line)
        w2.go()
        self.assertEqual(w2.finish(), 0)
        self.assertEqual(tracer.wait(60), 0, tracer.stderr.read())

        both = self.report_json(cap1, cap2)
        hosts = {r["host"] for r in both["stacks"]}
        self.assertEqual(hosts, {here, other})
        self.assertEqual(both["total"], self.report_json(cap1)["total"] +
                         self.report_json(cap2)["total"])
        text = self.stallreport(cap1, cap2)[1]
        self.assertIn(f"blockwork ({w1.pid}) on {here}", text)
        self.assertIn(f"blockwork ({w2.pid}) on {other}", text)
        folded = self.stallreport("--format", "folded", cap1, cap2)[1].splitlines()
        self.assertEqual({line.split(";")[0] for line in folded},
                         {f"[host {here}]", f"[host {other}]"})
        only_b = self.report_json("--tag", "side=b", cap1, cap2)
        self.assertEqual({r["host"] for r in only_b["stacks"]}, {other})

    def test_tag_host_names_the_host_in_a_merge(self):
        """Captures of one machine, each with its tag host=NAME (as scripts/fleet/canary.yml
        gives them), merge as hosts of those names, each with its own time; a capture without
        the tag is labelled by its host name; one capture alone has no host frame."""
        here = os.uname().nodename
        w1, cap1, _ = self.capture("sleep:10:20", args=("--tag", "host=canary-a"))
        w2, cap2, _ = self.capture("sleep:10:40", args=("--tag", "host=canary-b"))
        w3, cap3, _ = self.capture("sleep:5:20")

        both = self.report_json(cap1, cap2)
        for host, w in (("canary-a", w1), ("canary-b", w2)):
            with self.subTest(host=host):
                rows = [r for r in both["stacks"] if r["host"] == host]
                self.assertTrue(rows and all(r["pid"] == w.pid for r in rows), both["stacks"])
                self.assertEqual(rows[0]["frames"][0]["name"], f"[host {host}]")
                self.assertWithin(function_total({"stacks": rows}, "sleep_in_nanosleep"),
                                  ground_truth(w, "sleep"), TOLERANCE)
        text = self.stallreport(cap1, cap2)[1]
        self.assertIn(f"blockwork ({w1.pid}) on canary-a", text)
        self.assertIn(f"blockwork ({w2.pid}) on canary-b", text)
        svg = self.stallreport("--format", "svg", cap1, cap2)[1]
        self.assertIn("[host canary-a]", svg)
        self.assertIn("[host canary-b]", svg)
        self.assertIn(f"host:      {here} ", self.stallreport("--info", cap1)[1])
        only_b = self.report_json("--tag", "host=canary-b", cap1, cap2)
        self.assertEqual({r["host"] for r in only_b["stacks"]}, {"canary-b"})

        mixed = self.stallreport("--format", "folded", cap1, cap3)[1].splitlines()
        self.assertEqual({line.split(";")[0] for line in mixed},
                         {"[host canary-a]", f"[host {here}]"})
        alone = self.stallreport("--format", "folded", cap1)[1].splitlines()
        self.assertTrue(all(line.startswith("blockwork;") for line in alone), alone)

    def test_sigterm_leaves_a_complete_capture(self):
        """Ended by SIGTERM mid-session, the tool writes its report and a complete capture."""
        w = self.blockwork("sleep:200:20")
        cap = os.path.join(self.tmp.name, "term.cap")
        # a duration before the options: the capture keeps the command line as typed
        t = self.tracer("offcputime", "60", "-p", str(w.pid), "-o", cap)
        w.go()
        time.sleep(1.5)
        t.signal(signal.SIGTERM)
        rc, printed, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("(terminated)", printed)
        self.assertEqual(self.stallreport(cap)[1], printed)
        info = self.stallreport("--info", cap)[1]
        self.assertIn("(terminated)", info)
        self.assertIn(f"offcputime 60 -p {w.pid} -o {cap}\n", info)
        self.assertGreater(function_total(self.report_json(cap), "sleep_in_nanosleep"), 0)

    def test_unwritable_capture_fails_before_tracing(self):
        w = self.blockwork("sleep:1:10")
        rc, out, err = self.run_tool("offcputime", "-p", str(w.pid), "-o",
                                     os.path.join(self.tmp.name, "missing", "x.cap"), "1")
        self.assertEqual(rc, 1, err)
        self.assertIn("missing/x.cap", err)
        self.assertNotIn("Tracing", err)

    def test_full_disk_leaves_no_half_capture(self):
        """A file system without room: an error and a non-zero exit, and no file left."""
        self.require_programs("mount", "umount")
        full = os.path.join(self.tmp.name, "full")
        os.mkdir(full)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", f"stallkit-full-{os.getpid()}",
                        full], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", full])
        fd = os.open(os.path.join(full, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 512):
                pass
        except OSError:
            pass
        os.close(fd)
        cap = os.path.join(full, "x.cap")
        w = self.blockwork(*SCENARIOS)
        t = self.tracer("offcputime", "-p", str(w.pid), "-o", cap)
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, printed, err = t.finish()
        self.assertEqual(rc, 1, err)
        self.assertIn("No space left on device", err)
        self.assertIn("Traced for", printed)  # the report itself was printed
        self.assertEqual(os.listdir(full), ["filler"])


class OtherTools(StallreportMixin, Test):
    def test_syslat_capture(self):
        """syslat -o with --stacks: the text again, and the slow calls' stacks as rows."""
        w = self.workload("poll:5:30")
        cap = os.path.join(self.tmp.name, "syslat.cap")
        t = self.tracer("syslat", "-p", str(w.pid), "--min", "10ms", "--stacks", "-o", cap,
                        "poll")
        w.go()
        self.assertEqual(w.finish(), 0)
        rc, printed, err = t.finish()
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.stallreport(cap)[1], printed)
        doc = self.report_json(cap)
        polls = [r for r in doc["stacks"] if r["frames"][-1]["name"] == "[poll]"]
        self.assertEqual(sum(r["count"] for r in polls), 5, doc["stacks"])
        self.assertWithin(sum(r["value"] for r in polls), sum(w.facts()["poll_ns"]), TOLERANCE)
        slow = [d for d in doc["captures"][0]["reports"] if d.get("type") == "slow_call"]
        self.assertEqual(len(slow), 5)

    def test_profile_capture(self):
        """profile -o: the text again; the CPU time by function as the profiler counted it."""
        w = self.cpuwork("ratio:2")
        cap = os.path.join(self.tmp.name, "profile.cap")
        t = self.tracer("profile", "-p", str(w.pid), "-F", "199", "-o", cap, "--json")
        w.go()
        w.wait_done()
        t.signal(signal.SIGINT)
        rc, printed, err = t.finish()
        w.finish()
        self.assertEqual(rc, 0, err)
        (tool_doc,) = json_documents(printed)
        doc = self.report_json(cap)
        self.assertEqual(doc["captures"][0]["reports"], [tool_doc])
        self.assertEqual(doc["total"], sum(s["total_ns"] for s in tool_doc["stacks"]))
        self.assertEqual(doc["value_type"], "cpu")
        self.assertRegex(self.stallreport(cap)[1], r"-\s+cpuwork \(\d+\)\n\s+\d+ samples?\n")


def write_capture(path, records, compress=True):
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if compress else data)


META = {"section": "meta", "format": "stallkit-capture", "version": "1.0",
        "tool": "offcputime", "host": "h", "tags": {}, "targets": []}
END = {"section": "end", "end_time": "2026-12-04T00:00:01.000Z", "end_reason": "interrupted"}


def row(total_ns, function="f"):
    return {"pid": 1, "comm": "c", "state": "S", "count": 1, "total_ns": total_ns,
            "kernel_stack": [], "user_stack": [{"function": function, "line": 1}]}


def report(*rows):
    return {"section": "json", "data": {"tool": "offcputime", "type": "summary",
                                        "duration_ns": 10**9, "stacks": list(rows)}}


class BadCaptures(StallreportMixin, Unprivileged):
    """Whatever a file holds: a clear error naming the file and the offset, exit 1."""

    def check_error(self, records=None, raw=None, expect=""):
        path = os.path.join(self.tmp.name, "bad.cap")
        if raw is not None:
            with open(path, "wb") as f:
                f.write(raw)
        else:
            write_capture(path, records)
        rc, out, err = self.stallreport("--format", "json", path, ok=False)
        self.assertEqual(rc, 1, (out, err))
        self.assertRegex(err, rf"^stallreport: {re.escape(path)}: offset \d+: ")
        self.assertRegex(err, expect)
        return err

    def test_a_good_one(self):
        path = os.path.join(self.tmp.name, "good.cap")
        write_capture(path, [META, {"section": "text", "data": "hello\n"}, report(row(5000)), END])
        self.assertEqual(self.stallreport(path)[1], "hello\n")
        self.assertEqual(self.report_json(path)["total"], 5000)

    def test_not_gzip(self):
        self.check_error(raw=b"hello", expect="offset 0: not a capture")

    def test_truncated(self):
        good = os.path.join(self.tmp.name, "good.cap")
        write_capture(good, [META, report(row(5000)), END])
        with open(good, "rb") as f:
            data = f.read()
        err = self.check_error(raw=data[:len(data) // 2], expect=r"offset \d+: truncated")
        self.assertIn(f"offset {len(data) // 2}", err)

    def test_corrupt(self):
        good = os.path.join(self.tmp.name, "good.cap")
        write_capture(good, [META, report(row(5000)), END])
        with open(good, "rb") as f:
            data = bytearray(f.read())
        data[20:30] = b"\xff" * 10
        self.check_error(raw=bytes(data), expect=r"offset \d+: (corrupt|truncated)")

    def test_wrong_version_and_format(self):
        self.check_error([dict(META, version="2.0"), END], expect="format version 2.0")
        self.check_error([dict(META, format="other"), END], expect="not a stallkit capture")
        self.check_error([report(row(1)), END], expect="offset 0: the capture does not begin")

    def test_incomplete_and_malformed(self):
        self.check_error([META, report(row(1))], expect="incomplete")
        err = self.check_error(raw=gzip.compress(b'{"section":"meta"'), expect="offset")
        self.assertIn("offset", err)
        self.check_error([META, {"section": "json", "data": "x"}, END], expect="not an object")
        self.check_error([META, report(dict(row(1), total_ns=-5)), END], expect="out of range")
        self.check_error([META, report(dict(row(1), user_stack="x")), END],
                         expect="out of range")

    def test_huge_values(self):
        self.check_error([META, report(row(2**63 - 1), row(2**63 - 1, "g"), row(2, "h")), END],
                         expect="overflow")

    def test_newer_version_with_unknown_sections(self):
        path = os.path.join(self.tmp.name, "newer.cap")
        write_capture(path, [dict(META, version="1.7"), {"section": "hologram", "data": 1},
                             report(row(7000)), END])
        rc, out, err = self.stallreport("--format", "json", path)
        self.assertIn("newer stallkit", err)
        self.assertEqual(json.loads(out)["total"], 7000)

    def test_usage_errors(self):
        rc, _, err = self.stallreport("--format", "png", "x", ok=False)
        self.assertEqual(rc, 2)
        self.assertIn("unknown format", err)
        rc, _, err = self.stallreport("--diff", "x", ok=False)
        self.assertEqual(rc, 2)
        rc, _, err = self.stallreport(os.path.join(self.tmp.name, "none.cap"), ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("No such file", err)
