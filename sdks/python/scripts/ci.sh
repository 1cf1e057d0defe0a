#!/usr/bin/env bash
# `make test-sdk-python`: installs the SDK with its dev tools into .tmp/venv-python (from
# PyPI), runs ruff, mypy --strict and pytest (unit, conformance against a live reference
# server, interop), and writes .tmp/test-results/sdk-python.txt ending with
# `sdk-python: N passed, M failed` (each linter counts as one check). Exits 1 on any failure.
# Needs Python 3.9+ (python3.11 preferred), Node 20 and a built reference server.
set -uo pipefail
cd "$(dirname "$0")/../../.."

venv=.tmp/venv-python
results=.tmp/test-results
mkdir -p "$results"
python=$(command -v python3.11 || command -v python3)

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv" || exit 1
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -e './sdks/python[dev]' || exit 1

cd sdks/python
bin=../../$venv/bin
out=../../$results/sdk-python.txt
: >"$out"
lint_passed=0
lint_failed=0
check() {
  local name=$1
  shift
  if "$@" >>"$out" 2>&1; then
    lint_passed=$((lint_passed + 1))
    echo "ok   $name" | tee -a "$out"
  else
    lint_failed=$((lint_failed + 1))
    echo "FAIL $name" | tee -a "$out"
  fi
}
check "ruff check" "$bin/ruff" check .
check "ruff format --check" "$bin/ruff" format --check .
check "mypy --strict" "$bin/mypy"

"$bin/pytest" -q -p no:cacheprovider --junitxml="../../$results/sdk-python.xml" 2>&1 | tee -a "$out"
pytest_status=${PIPESTATUS[0]}

"$bin/python" scripts/summary.py "../../$results/sdk-python.xml" "$lint_passed" "$lint_failed" "$pytest_status" | tee -a "$out"
exit "${PIPESTATUS[0]}"
