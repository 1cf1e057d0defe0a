# Mandate: the single entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

RESULTS := .tmp/test-results
SERVICES_ENV = eval "$$(bash scripts/services.sh up)"
# PGlite's CommonJS build loads parts of itself with import(); Jest needs this flag for that.
JEST_NODE_OPTIONS := --experimental-vm-modules

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

node_modules/.installed: package-lock.json package.json reference-server/package.json generators/package.json sdks/ts/package.json actions/package.json console/package.json cli/package.json
	npm ci --no-audit --no-fund
	@touch $@

setup: node_modules/.installed ## Install every dependency (npm workspaces); link the `mandate` CLI into ~/.local/bin (MANDATE_BIN_DIR)
	@bash cli/scripts/link.sh

build: setup ## Compile the reference server, the web console it serves at /console, and the `mandate` CLI (with the SDK it is built on)
	npm run build -w reference-server
	npm run build -w console
	npm run build -w sdks/ts
	npm run build -w cli

run: build ## Run the server on the embedded default (PGlite + in-process cache) on :8080
	npm start -w reference-server

admin-token: build ## Mint a new instance-admin token from the data of `make run` (stop the server first)
	@npm run --silent admin-token -w reference-server

generate: setup ## Regenerate everything derived from spec/: the bundled spec and every SDK's generated code
	npm run spec:bundle
	npm run build -w generators
	npm run generate -w generators

check-generated: generate ## Fail when generated files differ from what is committed
	@changed="$$(git status --porcelain --untracked-files=all -- spec/dist sdks)"; \
	  if [[ -n "$$changed" ]]; then echo "$$changed"; echo "Generated files are stale: run 'make generate' and commit." >&2; exit 1; fi

lint: setup ## Lint the spec (Redocly, Spectral + OWASP), the server and the CI actions (ESLint, tsc); check every locked package runs on the documented Node.js
	node scripts/check-node-engines.mjs
	npm run spec:lint
	npm run lint -w reference-server
	npm run typecheck -w reference-server
	npm run lint -w console
	npm run typecheck -w console
	@# The actions are checked against the SDK's published types, which its build makes.
	npm run build -w sdks/ts
	npm run lint -w actions
	npm run typecheck -w actions
	npm run lint -w cli
	npm run typecheck -w cli

test-generators: setup ## The generator's IR and emitter unit tests
	@mkdir -p $(RESULTS)
	npm run typecheck -w generators
	cd generators && npx jest --ci --json --outputFile=../$(RESULTS)/generators.json

test-sdk-ts: build ## TypeScript SDK: lint, types, build, unit tests (nock) and the conformance scenarios against a live server
	@mkdir -p $(RESULTS)
	npm run lint -w sdks/ts
	npm run typecheck -w sdks/ts
	npm run build -w sdks/ts
	cd sdks/ts && NODE_OPTIONS=$(JEST_NODE_OPTIONS) npx jest --ci --json --outputFile=../../$(RESULTS)/sdk-ts.json

test-sdk-python: build ## Python SDK: ruff, mypy --strict, unit tests (respx), conformance and authlib interop against a live server
	bash sdks/python/scripts/ci.sh

test-sdk-java: build ## Java SDK: compile (-Xlint:all -Werror), unit tests, conformance scenarios and Nimbus interop against a live server
	@mkdir -p $(RESULTS)
	@rm -rf sdks/java/target/surefire-reports sdks/java/target/conformance-summary.txt
	@status=0; mvn -B -q -Dstyle.color=never -f sdks/java/pom.xml verify || status=$$?; \
	  node sdks/java/scripts/surefire-summary.mjs sdks/java/target > $(RESULTS)/sdk-java.txt || status=1; \
	  cat $(RESULTS)/sdk-java.txt; exit $$status

test-sdk-go: build ## Go SDK: gofmt, go vet, go test -race (unit, conformance against a live server, x/oauth2 interop)
	bash sdks/go/scripts/test.sh

sdks/extra/node_modules/.installed: sdks/extra/package-lock.json sdks/extra/package.json
	cd sdks/extra && npm ci --no-audit --no-fund
	@touch $@

test-sdk-extra: build sdks/extra/node_modules/.installed ## Long-tail languages: openapi-generator's Rust client from the spec, built and run against a live server
	@mkdir -p $(RESULTS)
	node sdks/extra/check-rust.mjs

test-quickstarts: build ## Every SDK README's install steps and quick start, run as written in a fresh project against a live server
	@mkdir -p $(RESULTS)
	node scripts/check-quickstarts.mjs | tee $(RESULTS)/quickstarts.txt

test-scaffolds: build ## Every language's starter project (/scaffold zips), unzipped, built with its own toolchain and run as its README says against a live server
	@mkdir -p $(RESULTS)
	node scripts/check-scaffolds.mjs | tee $(RESULTS)/scaffolds.txt

examples/mcp/node_modules/.installed: examples/mcp/package-lock.json examples/mcp/package.json
	cd examples/mcp && npm ci --no-audit --no-fund
	@touch $@

test-examples: build examples/mcp/node_modules/.installed ## The runnable examples: an MCP server protected by Mandate tokens, and an agent calling it
	@mkdir -p $(RESULTS)
	npm run build -w sdks/ts
	cd examples/mcp && node test.mjs | tee ../../$(RESULTS)/examples-mcp.txt

actions: setup ## Rebuild the GitHub Actions' committed bundles (actions/*/dist) from actions/src and the TypeScript SDK
	npm run build -w sdks/ts
	npm run bundle -w actions

test-actions: build ## The GitHub Actions (their committed bundles) and the GitLab CI template, run as the platforms run them against a live server
	@mkdir -p $(RESULTS)
	npm run build -w sdks/ts
	cd actions && NODE_OPTIONS=$(JEST_NODE_OPTIONS) npx jest --ci --json --outputFile=../$(RESULTS)/actions.json

test-console: build ## The web console in Debian's headless Chromium (playwright-core, no browser download) against a live server; CONSOLE_SCREENSHOT_DIR=docs/console refreshes the README's screenshots
	@mkdir -p $(RESULTS)
	@# The test's own calls (setting up data, checking results) go through the SDK's build.
	npm run build -w sdks/ts
	node console/test/browser.mjs | tee $(RESULTS)/console.txt

test-cli: build ## The `mandate` CLI: the built binary against a live server (every command, JSON and YAML output, exit codes, a 5,000-agent import, secrets kept out of logs, audit tail in tmux, completion in bash, zsh and fish)
	@mkdir -p $(RESULTS)
	cd cli && npx jest --ci --json --outputFile=../$(RESULTS)/cli.json

services: ## Start throwaway PostgreSQL and Redis on loopback for the tests
	bash scripts/services.sh up

services-down: ## Stop the test PostgreSQL and Redis
	bash scripts/services.sh down

test-server: build ## Server tests on PostgreSQL + Redis, plus the embedded smoke suite
	@mkdir -p $(RESULTS)
	$(SERVICES_ENV); cd reference-server && NODE_OPTIONS=$(JEST_NODE_OPTIONS) npx jest --ci \
	  --json --outputFile=../$(RESULTS)/server.json

infra/cdktf/node_modules/.installed: infra/cdktf/package-lock.json infra/cdktf/package.json
	cd infra/cdktf && npm ci --no-audit --no-fund
	@touch $@

infra-synth: infra/cdktf/node_modules/.installed ## Synthesize the AWS and GCP stacks offline, as JSON and as plain HCL
	cd infra/cdktf && npm run synth && npm run synth:hcl

test-infra: infra/cdktf/node_modules/.installed ## Tests of the CDKTF stacks and the server image's build inputs
	@mkdir -p $(RESULTS)
	cd infra/cdktf && npm test -- --ci --json --outputFile=../../$(RESULTS)/infra.json

conformance/node_modules/.installed: conformance/package-lock.json conformance/package.json
	cd conformance && npm ci --no-audit --no-fund
	@touch $@

test-conformance: build conformance/node_modules/.installed ## Language-neutral conformance scenarios over HTTP against a fresh embedded server
	@mkdir -p $(RESULTS)
	node conformance/run.mjs | tee $(RESULTS)/conformance.txt

bench/node_modules/.installed: bench/package-lock.json bench/package.json
	cd bench && npm ci --no-audit --no-fund
	@touch $@

test-bench: ## The benches' own arithmetic (the median and its confidence interval that verdicts rest on), node:test
	@mkdir -p $(RESULTS)
	node --test --test-reporter=tap bench/test/ > $(RESULTS)/bench.tap
	@awk '/^# pass /{p=$$3} /^# fail /{f=$$3} END{printf "bench: %d passed, %d failed\n", p, f}' $(RESULTS)/bench.tap | tee $(RESULTS)/bench.txt

bench: build bench/node_modules/.installed ## Load benchmark (token issuance incl. DPoP, introspection, list, SDK-protected resource) on PostgreSQL + Redis; results in bench/results/
	npm run build -w sdks/ts
	node bench/run.mjs

bench-events: build bench/node_modules/.installed ## 1,000 SSE subscribers under token load: commit-to-receipt latency; results in bench/results/events/
	node bench/events.mjs

bench-webhooks: build bench/node_modules/.installed ## Token issuance with and without a token.issued webhook, and deliveries/s to a loopback receiver; results in bench/results/webhooks/
	node bench/webhooks.mjs

bench-peers: build bench/node_modules/.installed ## Mandate beside Ory Hydra v2.3.0 and Keycloak 26.5 (installed once into ~/.cache/mandate-bench-peers), same load, interleaved rounds; results in bench/results/peers/
	node bench/peers.mjs

bench-soak: build bench/node_modules/.installed ## 10-minute mixed soak (issuance, introspection, list) at 64 connections: server RSS, heap, req/s and p99 every 10 s, verdict on RSS growth; results in bench/results/soak/
	node bench/soak.mjs

bench-scale: build bench/node_modules/.installed ## Token issuance and introspection at 10³, 10⁵ and 10⁶ agents (bulk SQL seeding, random agents), table and index sizes; results in bench/results/scale/
	node bench/scale.mjs

FUZZ_VENV := .tmp/fuzz-venv

$(FUZZ_VENV)/.installed: fuzz/requirements.txt
	python3 -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -r fuzz/requirements.txt
	@touch $@

fuzz: build $(FUZZ_VENV)/.installed ## Schemathesis, every check and phase, on both stores as instance admin and org writer (FUZZ_MAX_EXAMPLES=300)
	@status=0; $(SERVICES_ENV); node fuzz/run.mjs || status=$$?; \
	  if [[ "$${KEEP_SERVICES:-0}" != 1 ]]; then bash scripts/services.sh down; fi; exit $$status

test: lint check-generated test-generators test-server test-conformance test-sdk-ts test-sdk-python test-sdk-java test-sdk-go test-sdk-extra test-quickstarts test-scaffolds test-examples test-actions test-console test-cli test-infra test-bench ## Everything: lint, generated-file check, every test suite
	@status=0; node scripts/test-summary.mjs $(RESULTS)/*.json $(RESULTS)/*.txt || status=$$?; \
	  if [[ "$${KEEP_SERVICES:-0}" != 1 ]]; then bash scripts/services.sh down; fi; exit $$status

.PHONY: help setup build run admin-token generate check-generated lint services services-down test-generators test-server test-conformance test-sdk-ts test-sdk-python test-sdk-java test-sdk-go test-sdk-extra test-quickstarts test-scaffolds test-examples test-console actions test-actions test-cli infra-synth test-infra test-bench bench bench-events bench-webhooks bench-peers bench-scale bench-soak fuzz test
