# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Runs one Python test module for CTest, from the module's directory:

    python3 tests/unittest_runner.py MODULE

Exit 0 when every test passed, 1 on a failure, an error or no test at all, and 77 (the tests'
SKIP_RETURN_CODE) when any test was skipped: CTest then shows the file as skipped, and
scripts/test fails on it.  A skipped test prints "SKIPPED test: why".
"""
import os
import sys
import unittest

SKIPPED = 77


def main():
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun == 0:
        print(f"{sys.argv[1]}: no test ran")
        return 1
    for test, why in result.skipped:
        print(f"SKIPPED {test.id()}: {why}")
    return SKIPPED if result.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
