# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Fails when CTest skipped a test (scripts/test, CI): prints each skipped test with its reasons.

    python3 tests/skipped.py CTEST_JUNIT_XML
"""
import sys
import xml.etree.ElementTree as ET


def main():
    skipped = [case for case in ET.parse(sys.argv[1]).getroot().iter("testcase")
               if case.find("skipped") is not None or case.get("status") == "notrun"]
    for case in skipped:
        out = case.findtext("system-out") or ""
        reasons = [line for line in out.splitlines() if "SKIPPED" in line] or [out.strip()[-500:]]
        print(f"skipped, which scripts/test does not allow: {case.get('name')}")
        for line in reasons:
            print(f"    {line}")
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
