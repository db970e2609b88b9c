# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Everything the build, the tests and the demo use comes from a package that scripts/setup
installs, or that one of those pulls in: a green CI on a machine where someone installed a
package by hand must not hide a missing install step.

For each purpose (`scripts/setup --list PURPOSE`), the packages a fresh Debian machine has after
installing that list (the base image plus the dependency closure, without recommends) must own:
  build  every file the configure step of the demo's build found (FILEPATHs in the CMake
         cache, pkg-config modules) and every header the tools and workloads include;
  test   the same for the test build (STALLKIT_BUILD), and every program the tests and
         scripts/test run;
  demo   every program scripts/demo runs, and the test fixtures it starts;
  fresh  every program scripts/fresh-check runs on this machine (when installed: the test
         run installs build, demo and test only).
Runs without privileges:  STALLKIT_BUILD=build-test python3 -m unittest test_packages
"""
import glob
import os
import subprocess
import sys
import tempfile
import unittest

import debian
import uses

SOURCE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
BUILD = os.path.realpath(os.environ.get("STALLKIT_BUILD", os.path.join(SOURCE, "build")))


def setup_list(*purposes):
    return subprocess.run([os.path.join(SOURCE, "scripts/setup"), "--list", *purposes],
                          check=True, capture_output=True, text=True).stdout.split()


def unowned_uses(used, closure, purpose):
    """What the packages of closure do not provide, one line per missing package."""
    owners = debian.owners([path for path, _ in used if os.path.isabs(path)])
    missing = {}
    for path, why in used:
        if not os.path.isabs(path):
            missing.setdefault(f"a package providing {path}", []).append(
                f"{why}, which is not installed")
        elif path not in owners:
            missing.setdefault(f"no package (not from Debian: {path})", []).append(why)
        else:
            for packages in owners[path]:
                if not packages & closure:
                    missing.setdefault(sorted(packages)[0], []).append(f"{path} ({why})")
    return [f"`scripts/setup {purpose}` does not install {package}, needed for "
            + "; ".join(sorted(set(needs))[:3])
            + (f"; and {len(set(needs)) - 3} more" if len(set(needs)) > 3 else "")
            for package, needs in sorted(missing.items())]


def demo_build_cache():
    """The CMake cache of the demo's build (scripts/demo: no test suites), configured afresh."""
    tmp = tempfile.TemporaryDirectory(prefix="stallkit-packages-")
    subprocess.run(["cmake", "-S", SOURCE, "-B", tmp.name, "-DSTALLKIT_TESTS=OFF"], check=True,
                   stdout=subprocess.DEVNULL)
    return tmp


def test_suite_source(needer):
    return needer.startswith(("tests/unit/", "tests/integration/", "tests/packages/"))


class PackagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = debian.PackageDatabase()
        cls.closure = {p: cls.db.closure(setup_list(p))
                       for p in ("build", "demo", "test", "fresh")}
        cls.test_headers = uses.depfile_headers(BUILD, SOURCE)

    def assertProvided(self, used, purpose, closure=None):
        self.assertTrue(used, "nothing found to check")
        problems = unowned_uses(used, closure or self.closure[purpose], purpose)
        self.assertFalse(problems, "\n" + "\n".join(problems))

    def test_setup_lists_installed_packages(self):
        """The lists name real packages, installed here (scripts/test has just run setup)."""
        missing = [p for p in setup_list("build", "demo", "test") if not self.db.installed(p)]
        self.assertFalse(missing, "run scripts/setup test")

    def test_demo_build(self):
        """The demo's build: what its configure found, what the tools and workloads include."""
        with demo_build_cache() as cache_dir:
            cache = uses.cache_files(cache_dir)
        headers = [(p, f"a header of {n}") for p, n in self.test_headers
                   if not test_suite_source(n)]
        self.assertIn("the CMake cache's LIBIBERTY", [why for _, why in cache])
        self.assertProvided(cache + headers, "build")

    def test_test_build(self):
        """The test build: what its configure found (cmocka, the Python interpreter too) and
        what every object, unit tests and BPF programs included, includes."""
        headers = [(p, f"a header of {n}") for p, n in self.test_headers]
        self.assertTrue(any(n.startswith("tests/unit/") for _, n in self.test_headers))
        self.assertTrue(any(n.endswith(".bpf.c") for _, n in self.test_headers))
        self.assertProvided(uses.cache_files(BUILD) + headers, "test")

    def test_programs_the_tests_run(self):
        files = glob.glob(os.path.join(SOURCE, "tests", "**", "*.py"), recursive=True) + \
            [os.path.join(SOURCE, "scripts", s) for s in ("test", "build")]
        self.assertProvided(uses.programs(files, SOURCE), "test")

    def test_programs_the_demo_runs(self):
        demo = os.path.join(SOURCE, "scripts", "demo")
        text = uses.read(demo)
        fixtures = [p for p in glob.glob(os.path.join(SOURCE, "tests", "**", "*.py"),
                                         recursive=True) if os.path.basename(p) in text]
        self.assertTrue(fixtures, "the demo runs the DNS responder and the TCP peer")
        files = [demo, os.path.join(SOURCE, "scripts", "build")] + fixtures
        self.assertProvided(uses.programs(files, SOURCE), "demo")

    def test_programs_fresh_check_runs(self):
        files = [os.path.join(SOURCE, "scripts", "fresh-check")]
        self.assertProvided(uses.programs(files, SOURCE), "fresh")

    def test_a_missing_package_is_named(self):
        """The check itself: without libiberty-dev in the list, it names the package and the
        file that needed it."""
        closure = self.db.closure(p for p in setup_list("test") if p != "libiberty-dev")
        problems = unowned_uses(uses.cache_files(BUILD), closure, "test")
        self.assertEqual(len(problems), 1, problems)
        self.assertRegex(problems[0], r"does not install libiberty-dev, needed for "
                         r"/\S+/libiberty\.a \(the CMake cache's LIBIBERTY\)$")


if __name__ == "__main__":
    sys.exit(unittest.main())
