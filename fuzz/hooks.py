"""Schemathesis hooks of `make fuzz`: drop exactly the failures that fuzz/waivers.toml waives.

A waiver with `check` matches a failure of that check (on `operation`, when given) whose
answer has the waiver's `status` and, when given, its `problem`: the problem document's
`code`, or the `code` of one of its field errors. A failure's operation is the one
Schemathesis blames: the request's own, except for `use_after_free`, where it is the DELETE. Every dropped failure is counted per
waiver in $FUZZ_WAIVED_LOG (JSON), so the driver can say how often each waiver applied.
"""

import atexit
import json
import os
import tomllib
from pathlib import Path

import schemathesis

WAIVERS = [
    w for w in tomllib.loads((Path(__file__).parent / "waivers.toml").read_text())["waiver"] if "check" in w
]
WAIVED = {}


def _problem_codes(response):
    try:
        body = response.json()
    except Exception:
        return set()
    if not isinstance(body, dict):
        return set()
    codes = {body.get("code"), body.get("error")}
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            codes.add(error.get("code"))
    return codes - {None}


def _matches(waiver, context, failure, response):
    if waiver["check"] not in type(failure).checks:
        return False
    if "operation" in waiver and waiver["operation"] != (failure.operation or context.operation.label):
        return False
    if "status" in waiver and waiver["status"] != response.status_code:
        return False
    return "problem" not in waiver or waiver["problem"] in _problem_codes(response)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    for waiver in WAIVERS:
        if _matches(waiver, context, failure, response):
            WAIVED[waiver["reason"]] = WAIVED.get(waiver["reason"], 0) + 1
            return False
    return True


@atexit.register
def _write_counts():
    if os.environ.get("FUZZ_WAIVED_LOG"):
        Path(os.environ["FUZZ_WAIVED_LOG"]).write_text(json.dumps(WAIVED, indent=2))
