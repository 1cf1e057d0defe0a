#!/usr/bin/env bash
# The Go SDK's checks (`make test-sdk-go`): gofmt and go vet, then every test with the race
# detector: core unit tests, generated-client unit tests, the conformance scenarios against a
# live reference server (node conformance/serve.mjs) and the golang.org/x/oauth2 interop test.
# Writes .tmp/test-results/sdk-go.txt; its last line is `sdk-go: N passed, M failed`.
# Needs Go and Node (the reference server built: `make build`); modules come from the proxy.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
results="$root/.tmp/test-results"
mkdir -p "$results"
events="$root/.tmp/sdk-go-test.json"
lint="$root/.tmp/sdk-go-lint.txt"

lint_failures=0
: >"$lint"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  { echo "gofmt: these files need formatting:"; echo "$unformatted"; } | tee -a "$lint"
  lint_failures=$((lint_failures + 1))
fi
if ! go vet ./... 2>&1 | tee -a "$lint"; then
  lint_failures=$((lint_failures + 1))
fi

go test -race -count=1 -json ./... >"$events"
status=$?
{
  cat "$lint"
  go run ./scripts/testsummary -extra-failures "$lint_failures" <"$events"
} | tee "$results/sdk-go.txt"

if [ "$status" -ne 0 ] || [ "$lint_failures" -ne 0 ] || ! tail -n 1 "$results/sdk-go.txt" | grep -q ', 0 failed$'; then
  exit 1
fi
