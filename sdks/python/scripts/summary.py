"""Prints the closing line ``sdk-python: N passed, M failed`` from pytest's JUnit XML.

Usage: summary.py JUNIT_XML LINT_PASSED LINT_FAILED PYTEST_STATUS. The linters count as
checks too; the exit status is 1 when anything failed (or pytest ran nothing).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def main(argv: list[str]) -> int:
    junit, lint_passed, lint_failed, pytest_status = argv[1], *map(int, argv[2:5])
    total = failed = skipped = 0
    if Path(junit).is_file():
        # pytest wrote this file moments ago on this machine; it is not untrusted input.
        root = ElementTree.parse(junit).getroot()  # noqa: S314
        for suite in root.iter("testsuite"):
            total += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    passed = total - failed - skipped + lint_passed
    failed += lint_failed
    if total == 0:
        failed += 1  # no tests ran: that is a failure, not a pass
    if pytest_status not in (0, 1) and failed == 0:
        failed = 1  # pytest crashed (usage error, interrupted) without reporting a failure
    line = f"sdk-python: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or pytest_status != 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
