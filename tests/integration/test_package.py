# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The Debian package (cmake/Package.cmake, packaging/), made as README's "Install as a
package" says: a build of its own ($STALLKIT_BUILD/package-build, no tests, no sanitizers,
prefix /usr) and cpack.  Checked without changing this host: the package's files and control
fields, lintian, and a real install, reinstall, removal and purge by dpkg in a throwaway Debian
root (mmdebstrap's minbase from this machine's Debian sources; nothing mounted in it, entered
with chroot, removed at the end, also on failure).
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

SOURCE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
PACKAGE_BUILD = os.path.join(harness.BUILD, "package-build")
TRACERS = ["syslat", "offcputime", "profile", "dnsblock", "tcpretrans", "stallcheck", "stallsym"]
READER = "stallreport"
DOC = "/usr/share/doc/stallkit/"
UNITS = "/usr/lib/systemd/system/"
TIMER_LINK = "/etc/systemd/system/timers.target.wants/stallkit-prune.timer"
# dpkg's own records, made by the first install or stat override in a fresh root
DPKG_RECORDS = {"/var/log/dpkg.log", "/var/lib/dpkg/statoverride",
                "/var/lib/dpkg/statoverride-old"}


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)


def checked(argv, **kwargs):
    p = run(argv, **kwargs)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p.stdout


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(stallkit VERSION ([0-9.]+)", f.read()).group(1)


def file_caps():
    with open(os.path.join(SOURCE, "packaging/file-caps")) as f:
        return f.read().strip()


def build_package():
    """The path of the .deb, made afresh from the source tree."""
    checked(["cmake", "-S", SOURCE, "-B", PACKAGE_BUILD, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
             "-DCMAKE_INSTALL_PREFIX=/usr", "-DSTALLKIT_TESTS=OFF", "-DSTALLKIT_SANITIZE=OFF"])
    checked(["cmake", "--build", PACKAGE_BUILD])
    for old in glob.glob(os.path.join(PACKAGE_BUILD, "*.deb")):
        os.remove(old)
    checked(["cpack"], cwd=PACKAGE_BUILD)
    debs = glob.glob(os.path.join(PACKAGE_BUILD, "*.deb"))
    if len(debs) != 1:
        raise AssertionError(f"cpack made {debs}, not one .deb")
    return debs[0]


class PackageTest(harness.Unprivileged):
    @classmethod
    def setUpClass(cls):
        cls.deb = build_package()
        cls.version = project_version()
        cls.arch = checked(["dpkg", "--print-architecture"]).strip()

    def extract(self):
        root = os.path.join(self.tmp.name, "files")
        checked(["dpkg-deb", "--extract", self.deb, root])
        return root

    def test_other_builds_are_refused(self):
        # the test build: with the tests, maybe with the sanitizers
        p = run(["cpack", "--config", os.path.join(harness.BUILD, "CPackConfig.cmake"),
                 "-B", self.tmp.name])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("stallkit: no package from this build", p.stdout + p.stderr)
        self.assertFalse(glob.glob(os.path.join(self.tmp.name, "*.deb")))

    def test_name_and_control_fields(self):
        self.assertEqual(os.path.basename(self.deb), f"stallkit_{self.version}_{self.arch}.deb")
        fields = {}
        for line in checked(["dpkg-deb", "--field", self.deb]).splitlines():
            if not line.startswith(" "):
                key, _, value = line.partition(": ")
                fields[key] = value
        self.assertEqual(fields["Package"], "stallkit")
        self.assertEqual(fields["Version"], self.version)
        self.assertEqual(fields["Architecture"], self.arch)
        self.assertTrue(fields["Maintainer"])
        depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
        # the maintainer scripts' programs, and shared libraries found by dpkg-shlibdeps
        self.assertLessEqual({"adduser", "libcap2-bin", "libc6", "libbpf1", "libdw1", "libelf1"},
                             depends)
        info = checked(["dpkg-deb", "--info", self.deb])
        for script in ("postinst", "prerm", "postrm", "md5sums"):
            self.assertRegex(info, rf"\b{script}\b")

    def test_contents(self):
        entries = {}
        for line in checked(["dpkg-deb", "--contents", self.deb]).splitlines():
            mode, owner, _size, _date, _time, path = line.split(None, 5)
            entries[path[1:].rstrip("/") or "/"] = (mode, owner)
        pages = [f"/usr/share/man/man{p[-1]}/{os.path.basename(p)}.gz"
                 for p in glob.glob(os.path.join(SOURCE, "man", "*.[578]"))]
        files = {f"/usr/sbin/{t}": "-rwxr-xr-x" for t in TRACERS + [READER]}
        files.update({path: "-rw-r--r--" for path in pages + [
            DOC + "copyright", DOC + "changelog.gz", DOC + "examples/policy.conf",
            UNITS + "stallkit-prune.service", UNITS + "stallkit-prune.timer"]})
        # the tools are restricted by the postinst, once the groups exist; nothing in /etc or /var
        got_files = {p: m for p, (m, _) in entries.items() if not m.startswith("d")}
        self.assertEqual(got_files, files)
        dirs = {os.path.dirname(p) for p in files}
        while any(os.path.dirname(d) not in dirs | {"/"} for d in dirs):
            dirs |= {os.path.dirname(d) for d in dirs} - {"/"}
        self.assertEqual({p for p, (m, _) in entries.items() if m.startswith("d")} - {"/"}, dirs)
        for path, (mode, owner) in entries.items():
            self.assertEqual(owner, "root/root", path)
            if mode.startswith("d"):
                self.assertEqual(mode, "drwxr-xr-x", path)

    def test_files(self):
        root = self.extract()
        for tool in TRACERS + [READER]:
            path = os.path.join(root, "usr/sbin", tool)
            sections = checked(["readelf", "--section-headers", "--wide", path])
            self.assertNotIn(".debug_info", sections, f"{tool} is not stripped")
            self.assertNotIn(".symtab", sections, f"{tool} is not stripped")
            needed = checked(["readelf", "--dynamic", path])
            self.assertNotIn("libasan", needed, f"{tool} is built with the sanitizers")
            self.assertNotIn("libubsan", needed, f"{tool} is built with the sanitizers")
        for page in glob.glob(os.path.join(SOURCE, "man", "*.[578]")):
            name = os.path.basename(page)
            with gzip.open(os.path.join(root, f"usr/share/man/man{name[-1]}/{name}.gz")) as f, \
                    open(page, "rb") as source:
                self.assertEqual(f.read(), source.read(), name)
        with open(os.path.join(root, "usr/share/doc/stallkit/examples/policy.conf")) as f, \
                open(os.path.join(SOURCE, "packaging/policy.conf")) as source:
            self.assertEqual(f.read(), source.read())
        with open(os.path.join(root, "usr/lib/systemd/system/stallkit-prune.service")) as f:
            self.assertIn("\nExecStart=/usr/sbin/stallreport --prune\n", f.read())

    def test_maintainer_scripts(self):
        control = os.path.join(self.tmp.name, "control")
        checked(["dpkg-deb", "--control", self.deb, control])
        for script in ("postinst", "prerm", "postrm"):
            checked(["sh", "-n", os.path.join(control, script)])
        with open(os.path.join(control, "postinst")) as f:
            self.assertIn(f"\ncaps='{file_caps()}'\n", f.read())

    def test_lintian(self):
        p = run(["lintian", "--no-tag-display-limit", self.deb])
        complaints = [line for line in p.stdout.splitlines() if line[:2] in ("E:", "W:")]
        self.assertFalse(complaints, "\n" + p.stdout)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_install_reinstall_remove_purge(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (mmdebstrap --mode=root, chroot)")
        root = ThrowawayRoot(self, self.deb)
        for user in ("engineer", "reader", "outsider"):
            root.checked("useradd", "--no-create-home", user)
        before, groups_before = root.tree(), root.read("/etc/group")

        root.dpkg("--install")
        root.checked("usermod", "--append", "--groups", "stallkit", "engineer")
        root.checked("usermod", "--append", "--groups", "stallkit-read", "reader")
        self.assert_installed(root)
        with open(root.path("/var/log/stallkit/audit.log"), "a") as f:
            f.write('{"tool": "syslat"}\n')
        root.dpkg("--install")  # as an upgrade: dpkg unpacks new files without capabilities
        self.assert_installed(root)

        root.dpkg("--remove")
        self.assertFalse(os.path.lexists(root.path("/usr/sbin/syslat")))
        self.assertFalse(os.path.lexists(root.path(UNITS + "stallkit-prune.timer")))
        self.assertIn("\nstallkit:", "\n" + root.read("/etc/group"))
        self.assertEqual(root.read("/var/log/stallkit/audit.log"), '{"tool": "syslat"}\n')
        self.assertTrue(os.path.isdir(root.path("/var/lib/stallkit/captures")))

        root.dpkg("--purge")
        after = root.tree()
        self.assertEqual(sorted(after - before - DPKG_RECORDS), [], "left after the purge")
        self.assertEqual(sorted(before - after), [], "removed by the purge")
        self.assertNotIn("stallkit", root.read("/etc/group"))
        self.assertEqual(root.read("/etc/group"), groups_before)
        self.assertNotIn("stallkit", root.read("/etc/gshadow"))
        self.assertEqual(root.read("/var/lib/dpkg/statoverride"), "")

    def assert_installed(self, root):
        def stat(path):
            return root.checked("stat", "--format", "%U:%G %a", path).strip()
        for tool in TRACERS:
            self.assertEqual(stat(f"/usr/sbin/{tool}"), "root:stallkit 750", tool)
            p = root.run("setcap", "-v", file_caps(), f"/usr/sbin/{tool}")
            self.assertEqual(p.returncode, 0, f"{tool}: {p.stdout}{p.stderr}")
        self.assertEqual(stat(f"/usr/sbin/{READER}"), "root:stallkit-read 750")
        self.assertEqual(root.checked("getcap", f"/usr/sbin/{READER}"), "")
        self.assertEqual(stat("/var/log/stallkit"), "root:stallkit 2770")
        self.assertEqual(stat("/var/log/stallkit/audit.log"), "root:stallkit 660")
        self.assertEqual(stat("/var/lib/stallkit/captures"), "root:stallkit-read 3770")
        for group in ("stallkit", "stallkit-read"):
            gid = int(root.checked("getent", "group", group).split(":")[2])
            self.assertLess(gid, 1000, f"{group} is not a system group")
        self.assertTrue(os.path.islink(root.path(TIMER_LINK)), "the prune timer is not enabled")
        # who may run what (runuser, not setpriv: setpriv keeps root's capabilities until the
        # exec, so that exec is not refused)
        may_run = {"engineer": set(TRACERS), "reader": {READER}, "outsider": set()}
        for user, allowed in may_run.items():
            for tool in TRACERS + [READER]:
                p = root.run("runuser", "-u", user, "--", f"/usr/sbin/{tool}", "--version")
                if tool in allowed:
                    self.assertEqual(p.returncode, 0, f"{user} {tool}: {p.stderr}")
                else:
                    self.assertNotEqual(p.returncode, 0, f"{user} may run {tool}")
                    self.assertIn("Permission denied", p.stderr, f"{user} {tool}")


def read_text(path):
    with open(path) as f:
        return f.read()


class ThrowawayRoot:
    """A minimal Debian root with the package's dependencies in a new directory under /var/tmp,
    removed at cleanup; commands run in it with chroot, and nothing is mounted in it."""
    SKIP = {"/proc", "/sys", "/dev", "/run", "/tmp", "/var/cache", "/var/log/apt"}

    def __init__(self, test, deb):
        self.work = tempfile.mkdtemp(prefix="stallkit-package-", dir="/var/tmp")
        test.addCleanup(self.remove)
        self.root = os.path.join(self.work, "root")
        # this machine's Debian sources, in either format, wherever apt has them (a root made
        # by mmdebstrap has them under another name)
        sources = [name for name in sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
                   if "debian.org" in read_text(name)]
        if not sources:
            sources = [os.path.join(self.work, "debian.list")]
            lists = (glob.glob("/etc/apt/sources.list")
                     + glob.glob("/etc/apt/sources.list.d/*.list"))
            with open(sources[0], "w") as out:
                for name in lists:
                    with open(name) as f:
                        out.writelines(line for line in f if re.match(r"^deb .*debian", line))
        with open("/etc/os-release") as f:
            release = re.search(r"^VERSION_CODENAME=(\S+)", f.read(), re.M).group(1)
        depends = checked(["dpkg-deb", "--field", deb, "Depends"])
        include = ",".join(d.strip().split(" ")[0] for d in depends.split(","))
        checked(["mmdebstrap", "--quiet", "--mode=root", "--variant=minbase",
                 f"--include={include}", release, self.root, *sources])
        shutil.copy(deb, self.path("/tmp/stallkit.deb"))

    def remove(self):
        with open("/proc/mounts") as f:
            mounted = [line.split()[1] for line in f if line.split()[1].startswith(self.work)]
        if mounted:  # never delete through a mount
            raise AssertionError(f"still mounted, {self.work} left in place: {mounted}")
        shutil.rmtree(self.work)

    def path(self, path):
        return self.root + path

    def read(self, path):
        with open(self.path(path)) as f:
            return f.read()

    def run(self, *argv):
        return run(["chroot", self.root, *argv])

    def checked(self, *argv):
        return checked(["chroot", self.root, *argv])

    def dpkg(self, action):
        self.checked("dpkg", action, "/tmp/stallkit.deb" if action == "--install" else "stallkit")

    def tree(self):
        """Every path in the root, but the kernel's, temporary ones and caches."""
        paths = set()
        for top, dirs, files in os.walk(self.root):
            rel = top[len(self.root):] or "/"
            dirs[:] = [d for d in dirs if os.path.join(rel, d) not in self.SKIP]
            paths.update(os.path.join(rel, name) for name in dirs + files)
        return paths


if __name__ == "__main__":
    unittest.main()
