# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""scripts/fleet/canary.yml run by ansible-playbook against this machine under three inventory
names (the local connection): two run offcputime on a blockwork each, whose blocks are known,
one fails.  The captures of the two are fetched and merged into one report and one flame graph
that name each host; each host's time in sleep_in_nanosleep is its workload's within 5%; the
failure is reported; nothing is left on the "hosts" and nothing is written outside the test's
directory (Ansible's home, temporary directories and configuration are the test's)."""
import json
import os
import signal
import subprocess
import time

from harness import ATTACH_TIMEOUT, TOOLS, Test, assert_no_sanitizer_report, tool

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "../../scripts/fleet/canary.yml")
TOLERANCE = 0.05
# Each host's workload: different scenarios, so that a host's numbers cannot be another's
WORKLOADS = {"alpha": ("sleep:10:30",), "beta": ("sleep:10:60", "pipe:20:20")}
FUNCTIONS = {"sleep": "sleep_in_nanosleep", "pipe": "read_fed_pipe"}


def function_total(rows, function):
    return sum(r["value"] for r in rows if any(
        f["name"] == function and not f["synthetic"] for f in r["frames"]))


class Fleet(Test):
    def setUp(self):
        super().setUp()
        self.require_programs("ansible-playbook")
        self.home = os.path.join(self.tmp.name, "home")
        self.remote_tmp = os.path.join(self.tmp.name, "remote")
        self.out = os.path.join(self.tmp.name, "out")
        for d in (self.home, self.remote_tmp):
            os.mkdir(d)

    def ansible_env(self):
        """Ansible's configuration, home, caches and temporary directories in the test's
        directory: no ~/.ansible, no /etc/ansible/ansible.cfg, no colours."""
        config = os.path.join(self.tmp.name, "ansible.cfg")
        with open(config, "w") as f:
            f.write("[defaults]\nretry_files_enabled = False\n")
        return dict(os.environ, HOME=self.home, ANSIBLE_CONFIG=config,
                    ANSIBLE_HOME=os.path.join(self.home, ".ansible"),
                    ANSIBLE_LOCAL_TEMP=os.path.join(self.tmp.name, "ansible-local"),
                    ANSIBLE_REMOTE_TEMP=os.path.join(self.tmp.name, "ansible-remote"),
                    ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")

    def inventory(self, targets):
        """The canary group: one inventory name per target, every one this machine."""
        path = os.path.join(self.tmp.name, "inventory.ini")
        with open(path, "w") as f:
            f.write("[canary]\n")
            for name, target in targets.items():
                f.write(f"{name} target='{target}'\n")
            f.write("[canary:vars]\nansible_connection=local\n"
                    "ansible_python_interpreter={{ ansible_playbook_python }}\n"
                    f"stallkit_bin={os.path.abspath(TOOLS)}\n"
                    f"stallkit_remote_tmp={self.remote_tmp}\n")
        return path

    def playbook(self, inventory, *extra):
        """ansible-playbook, started in a session of its own: at cleanup, it and whatever it
        started (its workers, the tools) are killed if still running."""
        argv = ["ansible-playbook", "-i", inventory, PLAYBOOK,
                "-e", f"stallreport={os.path.abspath(tool('stallreport'))}",
                "-e", f"out={self.out}", *extra]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=self.ansible_env(), start_new_session=True)

        def stop():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        self.addCleanup(stop)
        return proc

    def wait_attached(self, proc, label):
        """The PID of the offcputime that the playbook started for host label, once it has
        attached (holds a BPF link)."""
        deadline = time.monotonic() + 120 + ATTACH_TIMEOUT  # Ansible starts slowly
        while time.monotonic() < deadline and proc.poll() is None:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        argv = f.read().decode(errors="replace").split("\0")
                    if os.path.basename(argv[0]) != "offcputime" or \
                            f"host={label}" not in argv:
                        continue
                    links = [fd for fd in os.listdir(f"/proc/{pid}/fd")
                             if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf_link"]
                except OSError:
                    continue  # gone, or not yet
                if links:
                    return int(pid)
            time.sleep(0.1)
        self.fail(f"offcputime for {label} did not attach; " + (
            f"ansible-playbook ended:\n{proc.stdout.read()}" if proc.poll() is not None
            else "ansible-playbook still runs"))

    def test_canary_run_merges_the_hosts_and_reports_the_failure(self):
        """alpha and beta trace a blockwork each (sleeps; beta also reads a pipe), gamma a PID
        that is gone: the two captures merged under their inventory names, gamma reported."""
        workloads = {host: self.blockwork(*scenarios) for host, scenarios in WORKLOADS.items()}
        gone = subprocess.Popen(["true"])
        gone.wait()  # a PID that no longer exists: gamma's tool fails
        targets = {host: f"-p {w.pid}" for host, w in workloads.items()}
        targets["gamma"] = f"-p {gone.pid}"
        proc = self.playbook(self.inventory(targets), "-e", "tool=offcputime",
                             "-e", "reason='INC-1 p99'", "-e", "duration=60s")
        for host, w in workloads.items():
            self.wait_attached(proc, host)
            w.go()
        for w in workloads.values():
            self.assertEqual(w.finish(), 0)
        log = proc.communicate(timeout=300)[0]
        # exit 2: a host failed; the others were merged all the same
        self.assertEqual(proc.returncode, 2, log)

        # the failure, reported with the tool's exit status and message
        self.assertIn("gamma: no capture: offcputime failed (exit status 1): offcputime: no "
                      f"process with PID {gone.pid}", log)
        self.assertIn("merged: alpha, beta", log)
        self.assertIn("failed: gamma", log)
        # the captures fetched, the tools' messages kept; the hosts' directories removed
        self.assertEqual(sorted(os.listdir(self.out)),
                         ["alpha.cap", "alpha.log", "beta.cap", "beta.log", "flame.svg",
                          "gamma.log", "report.json", "report.txt"])
        self.assertEqual(os.listdir(self.remote_tmp), [])
        self.assertFalse(os.path.exists(os.path.join(self.home, ".ansible", "tmp")))
        self.assertFalse(os.path.exists(os.path.join(self.home, ".ansible", "cp")))
        for host in workloads:
            with open(os.path.join(self.out, f"{host}.log")) as f:
                messages = f.read()
            assert_no_sanitizer_report(messages)
            self.assertIn("Tracing off-CPU time", messages)
            rc, info, err = self.run_tool("stallreport", "--info",
                                          os.path.join(self.out, f"{host}.cap"))
            self.assertEqual(rc, 0, err)
            for expected in ("reason:    INC-1 p99", f"tag:       host={host}",
                             f"target:    pid {workloads[host].pid} (blockwork)",
                             "(all traced processes exited)"):
                self.assertIn(expected, info)

        # one report and one flame graph, each host's stacks under its name, with its times
        with open(os.path.join(self.out, "report.json")) as f:
            doc = json.load(f)
        with open(os.path.join(self.out, "report.txt")) as f:
            text = f.read()
        with open(os.path.join(self.out, "flame.svg")) as f:
            svg = f.read()
        for host, w in workloads.items():
            with self.subTest(host=host):
                self.assertIn(f"blockwork ({w.pid}) on {host}", text)
                self.assertIn(f"[host {host}]", svg)
                rows = [r for r in doc["stacks"] if r["host"] == host]
                self.assertTrue(rows and all(r["pid"] == w.pid for r in rows), doc["stacks"])
                self.assertEqual({r["frames"][0]["name"] for r in rows}, {f"[host {host}]"})
                facts = w.facts()
                for scenario, function in FUNCTIONS.items():
                    expected = sum(facts.get(scenario, []))
                    if expected:
                        self.assertWithin(function_total(rows, function), expected, TOLERANCE)
                    else:
                        self.assertEqual(function_total(rows, function), 0)
        self.assertEqual(doc["total"], sum(r["value"] for r in doc["stacks"]))

    def test_a_request_without_reason_runs_nothing(self):
        """Without a reason the playbook stops before it runs anything anywhere."""
        proc = self.playbook(self.inventory({"alpha": "-p 1"}), "-e", "tool=offcputime",
                             "-e", "duration=5s")
        log = proc.communicate(timeout=300)[0]
        self.assertNotEqual(proc.returncode, 0, log)
        self.assertIn("give -e tool=", log)
        self.assertNotIn("alpha", log.split("PLAY RECAP")[0])
        self.assertEqual(os.listdir(self.remote_tmp), [])
        self.assertFalse(os.path.exists(self.out))
