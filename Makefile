# Contrail. `make run` starts the whole local stack, `make test` runs every test.
# SAM builds each function with `make build-<LogicalId> ARTIFACTS_DIR=...` (BuildMethod: makefile).

SHELL := /bin/bash
GO ?= go
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid='

# $(1) = folder under functions/, $(2) = LogicalId. SAM sets ARTIFACTS_DIR; `make build` uses .local/build/<LogicalId>.
define build_function
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(if $(ARTIFACTS_DIR),$(ARTIFACTS_DIR),.local/build/$(2))/bootstrap ./functions/$(1)
endef

.PHONY: run test build lint token tidy

# ---- functions: foundation
build-HealthFunction: ; $(call build_function,health,HealthFunction)
build-CreateContactFunction: ; $(call build_function,create-contact,CreateContactFunction)
build-GetContactFunction: ; $(call build_function,get-contact,GetContactFunction)

# ---- functions: contacts
build-ListContactsFunction: ; $(call build_function,list-contacts,ListContactsFunction)
build-UpdateContactFunction: ; $(call build_function,update-contact,UpdateContactFunction)
build-ConnectChannelFunction: ; $(call build_function,connect-channel,ConnectChannelFunction)
build-ArchiveContactFunction: ; $(call build_function,archive-contact,ArchiveContactFunction)
build-UnarchiveContactFunction: ; $(call build_function,unarchive-contact,UnarchiveContactFunction)
build-DeleteContactFunction: ; $(call build_function,delete-contact,DeleteContactFunction)
build-EraseContactFunction: ; $(call build_function,erase-contact,EraseContactFunction)
build-MergeContactsFunction: ; $(call build_function,merge-contacts,MergeContactsFunction)
build-InviteContactFunction: ; $(call build_function,invite-contact,InviteContactFunction)
build-MessageContactFunction: ; $(call build_function,message-contact,MessageContactFunction)
build-ShareContactFunction: ; $(call build_function,share-contact,ShareContactFunction)
build-CommentContactFunction: ; $(call build_function,comment-contact,CommentContactFunction)
build-ContactHistoryFunction: ; $(call build_function,contact-history,ContactHistoryFunction)
build-ImportContactsFunction: ; $(call build_function,import-contacts,ImportContactsFunction)
build-MailerFunction: ; $(call build_function,mailer,MailerFunction)
build-MailReplayFunction: ; $(call build_function,mail-replay,MailReplayFunction)

# ---- functions: audit log
build-IngestAuditEventsFunction: ; $(call build_function,ingest-audit-events,IngestAuditEventsFunction)
build-IngestCobrowseEventsFunction: ; $(call build_function,ingest-cobrowse-events,IngestCobrowseEventsFunction)
build-QueryAuditEventsFunction: ; $(call build_function,query-audit-events,QueryAuditEventsFunction)
build-CobrowseSessionFunction: ; $(call build_function,cobrowse-session,CobrowseSessionFunction)

# ---- functions: tenant settings
build-GetSettingsFunction: ; $(call build_function,get-settings,GetSettingsFunction)
build-PutSettingsFunction: ; $(call build_function,put-settings,PutSettingsFunction)

# ---- functions: archive
build-ArchiverFunction: ; $(call build_function,archiver,ArchiverFunction)
build-CompactorFunction: ; $(call build_function,compactor,CompactorFunction)
build-ArchiveReplayFunction: ; $(call build_function,archive-replay,ArchiveReplayFunction)

# ---- functions: verifiable log
build-SequenceLogFunction: ; $(call build_function,sequence-log,SequenceLogFunction)
build-GetLogCheckpointFunction: ; $(call build_function,get-log-checkpoint,GetLogCheckpointFunction)
build-GetLogInclusionProofFunction: ; $(call build_function,get-log-inclusion-proof,GetLogInclusionProofFunction)
build-GetLogConsistencyProofFunction: ; $(call build_function,get-log-consistency-proof,GetLogConsistencyProofFunction)
build-GetLogTileFunction: ; $(call build_function,get-log-tile,GetLogTileFunction)

# ---- functions: reports and exports
build-ContactOverviewFunction: ; $(call build_function,contact-overview,ContactOverviewFunction)
build-AddedLogFunction: ; $(call build_function,added-log,AddedLogFunction)
build-ConnectedLogFunction: ; $(call build_function,connected-log,ConnectedLogFunction)
build-DeletedLogFunction: ; $(call build_function,deleted-log,DeletedLogFunction)
build-MergedLogFunction: ; $(call build_function,merged-log,MergedLogFunction)
build-CreateExportFunction: ; $(call build_function,create-export,CreateExportFunction)
build-GetExportFunction: ; $(call build_function,get-export,GetExportFunction)
build-PutExportScheduleFunction: ; $(call build_function,put-export-schedule,PutExportScheduleFunction)
build-ListExportSchedulesFunction: ; $(call build_function,list-export-schedules,ListExportSchedulesFunction)
build-DeleteExportScheduleFunction: ; $(call build_function,delete-export-schedule,DeleteExportScheduleFunction)
build-RunExportScheduleFunction: ; $(call build_function,run-export-schedule,RunExportScheduleFunction)
build-ExportWorkerFunction: ; $(call build_function,export-worker,ExportWorkerFunction)
build-ExportSchedulerFunction: ; $(call build_function,export-scheduler,ExportSchedulerFunction)

# ---- functions: console (a custom resource that puts the console's build into its bucket)
build-ConsoleFunction: console-build ; $(call build_function,console,ConsoleFunction)

# The console's files, into functions/console/assets (embedded by ConsoleFunction).
.PHONY: console-build
console-build:
	@if [ -f console/package.json ]; then \
		[ console/node_modules/.package-lock.json -nt console/package-lock.json ] || npm ci --prefix console --no-audit --no-fund; \
		npm --prefix console run build; \
	fi

# ---- end of functions

# ---- local stack
# make run: DynamoDB Local, S3 (in process), the SES emulator, the gateway on :3000 (PORT
# overrides), the stream poller and the scheduler. Ctrl-C stops everything.
# Built, then exec'd, so the stack is make's own child and stops when make does.
run:
	@$(GO) build -o .local/devstack ./local/cmd/devstack && exec .local/devstack

# make token ROLE=admin|agent|service TENANT=<id> [USER=<id>] [NAME=<display name>]: one
# development token on stdout. USER and NAME count only when given on the command line
# (the shell's $$USER is not a user id).
token:
	@$(GO) run ./local/cmd/token -role '$(ROLE)' -tenant '$(TENANT)' \
		-user '$(if $(filter command line,$(origin USER)),$(USER))' \
		-name '$(if $(filter command line,$(origin NAME)),$(NAME))'

# make reconcile TENANT=<id> FROM=<date> TO=<date>: compares the tenant's events in DynamoDB,
# the Parquet archive, the verifiable log and every report count for [FROM, TO) on the running
# local stack (make run) and prints each difference with its event ids (docs/reliability.md).
# Exit status 0 when all agree, 1 when they differ, 2 on a usage error, 3 when a source cannot
# be read. RECONCILE_FLAGS passes more (-aws -table T -bucket B -log-table L -keys-table K
# -kms-key ARN for AWS).
# Built, then run, so the exit status is the command's own (go run turns every failure into 1).
.PHONY: reconcile
RECONCILE_FLAGS ?=
reconcile:
	@$(GO) build -o .local/reconcile ./local/cmd/reconcile && .local/reconcile -tenant '$(TENANT)' -from '$(FROM)' -to '$(TO)' $(RECONCILE_FLAGS)

# make fuzz [SEED=n] [N=requests | DURATION=10m]: the long route fuzzer run (local/routefuzz,
# docs/reliability.md) against a local stack of its own: every route of template.yaml, checking
# no 5xx, error.code on every 4xx, nothing changed by a 4xx and no tenant B data in tenant A's
# answers. Without SEED one is taken from the clock (printed); make test runs seed 1, 1,500
# requests. Exit status 1 when an invariant broke (each printed as a request to send again).
# make fuzz-routes is the same target (its older name).
.PHONY: fuzz fuzz-routes
SEED ?= 0
N ?= 0
DURATION ?= 10m
fuzz fuzz-routes: local/node_modules/.installed
	@$(GO) build -o .local/fuzzroutes ./local/cmd/fuzzroutes && .local/fuzzroutes -seed '$(SEED)' -n '$(N)' -duration '$(DURATION)'

# make isolate [SEED=n] [ACTIONS=n]: the model-based isolation test (local/isolation,
# docs/reliability.md) against a local stack of its own: random actions by callers of four
# tenants (admins, agents, services, tokens with forged claims), then every read route checked
# against the model and every answer scanned for another tenant's ids and names. Without SEED
# one is taken from the clock (printed); make test runs seed 1 with 150 actions. Exit status 1
# on a finding.
.PHONY: isolate
ACTIONS ?= 2000
isolate: local/node_modules/.installed
	@$(GO) build -o .local/isolate ./local/cmd/isolate && .local/isolate -seed '$(SEED)' -actions '$(ACTIONS)'

# make chaos [SEED=n] [ROUNDS=20] [WORKERS=4]: the fault injection scenarios (local/chaos,
# docs/reliability.md) against a local stack of their own: S3, DynamoDB and SES faults,
# functions killed mid-invocation, the whole stack restarted mid-load; after each, the
# reconciliation must agree, nothing be lost or duplicated, every email go out at most once
# and no 5xx come outside faults. Prints the table; exit status 1 when a scenario failed.
# make test runs the same scenarios short (TestScenariosSeeded, seed 1). CHAOS_FLAGS passes
# more (-only kill, -exports 8, -faults-for 1m, -drain 5m).
.PHONY: chaos
ROUNDS ?= 20
WORKERS ?= 4
CHAOS_FLAGS ?=
chaos: local/node_modules/.installed
	@$(GO) build -o .local/chaos ./local/cmd/chaos && .local/chaos -seed '$(SEED)' -rounds '$(ROUNDS)' -workers '$(WORKERS)' $(CHAOS_FLAGS)

# make load [SEED=n] [DURATION=5m] [TENANTS=20] [WORKERS=8]: the sustained load run (local/load,
# docs/reliability.md) against a local stack of its own: contact actions, audit event batches,
# co-browsing events and reads, and report reads for TENANTS tenants whose traffic is
# Zipf-distributed (one very hot), for DURATION. Prints requests/s, p50/p99 latency per route
# family, errors by status, the archive's lag over time and the time to drain (until every
# acknowledged event is archived and the reconciliation agrees for every tenant). Exit status 1
# on a 5xx, a lost or duplicated event, a disagreeing reconciliation or no drain. A short run:
# make load DURATION=20s TENANTS=5 WORKERS=4 (about a minute with the stack's start). LOAD_FLAGS
# passes more (-skew 1.1, -drain 5m).
.PHONY: load
TENANTS ?= 20
LOAD_FLAGS ?=
load: DURATION = 5m
load: WORKERS = 8
load: local/node_modules/.installed
	@$(GO) build -o .local/load ./local/cmd/load && .local/load -seed '$(SEED)' -duration '$(DURATION)' -tenants '$(TENANTS)' -workers '$(WORKERS)' $(LOAD_FLAGS)

# ---- test, build, lint, tidy
# make test: installs the npm stand-ins when local/package-lock.json is newer than the last
# install, then runs every Go test: one DynamoDB Local shared by all test binaries, gofakes3
# and the SES emulator per binary. One line per package and test; fails on any failed or
# skipped test.
TEST_TIMEOUT ?= 5m
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

local/node_modules/.installed: local/package-lock.json local/package.json
	npm ci --prefix local --no-audit --no-fund
	@touch $@

test: local/node_modules/.installed
	@$(GO) run ./local/cmd/testsummary -dynamodb -- $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -json ./...
	@$(MAKE) --no-print-directory test-console

# make test-console: the console's browser tests (console/tests, Playwright's runner driving
# Debian's Chromium at CHROMIUM_PATH, default /usr/bin/chromium) against a local stack of their
# own (state in .local/browser-tests, a free port). Lists the tests, runs them, and fails on a
# missing prerequisite, a failed test or a skipped one.
CHROMIUM_PATH ?= /usr/bin/chromium
console/node_modules/.package-lock.json: console/package-lock.json console/package.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix console --no-audit --no-fund
	@touch $@

.PHONY: test-console
test-console: local/node_modules/.installed console/node_modules/.package-lock.json
	@[ -x "$(CHROMIUM_PATH)" ] || { echo "test-console: no Chromium at $(CHROMIUM_PATH): apt-get install -y chromium (or set CHROMIUM_PATH)" >&2; exit 1; }
	@echo "== console browser tests ($$($(CHROMIUM_PATH) --version 2>/dev/null | head -n1))"
	@cd console && CHROMIUM_PATH=$(CHROMIUM_PATH) npx playwright test --list | grep -E '^\s+\S+\.spec\.js' || { echo "test-console: no browser tests found" >&2; exit 1; }
	@start=$$(date +%s); cd console && out=$$(mktemp) && \
		CHROMIUM_PATH=$(CHROMIUM_PATH) npx playwright test 2>&1 | tee $$out; rc=$${PIPESTATUS[0]}; \
		if grep -qE '^\s+[0-9]+ (skipped|flaky|did not run)' $$out; then echo "test-console: tests were skipped, flaky or did not run" >&2; rc=1; fi; \
		passed=$$(grep -oE '^\s+[0-9]+ passed' $$out | tr -dc 0-9); rm -f $$out; \
		if [ $$rc -eq 0 ]; then echo "console: $${passed:-0} browser tests passed in $$(( $$(date +%s) - start )) s (Chromium, axe-core, screenshots in console/test-results/screenshots/)"; \
		else echo "console: browser tests FAILED (see above; traces in console/test-results/artifacts/)" >&2; fi; exit $$rc

# make build: every function of template.yaml for linux/arm64, into .local/build/<LogicalId>/bootstrap.
build:
	@fns="$$($(GO) run ./local/cmd/tmpl functions)" || exit 1; \
	$(MAKE) --no-print-directory -j2 $$(for f in $$fns; do printf 'build-%s ' "$$f"; done) || exit 1; \
	for f in $$fns; do \
		stat -c '%s' ".local/build/$$f/bootstrap" | awk -v f="$$f" '{ printf "%-40s %6.1f MB\n", f, $$1 / 1048576 }'; \
	done

# make lint: gofmt, go vet and staticcheck (fetched through the Go module proxy on first use).
lint:
	@out="$$(find . -name '*.go' -not -path './local/node_modules/*' -not -path './.local/*' -print0 | xargs -0 gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt -w needed for:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

tidy:
	$(GO) mod tidy

# ---- docs: reference sections generated from code (docs/events.md)
.PHONY: docs
docs:
	$(GO) run ./shared/audit/cmd/eventref -file docs/events.md

# ---- bench: Contrail side by side with DuckDB on the same files, threads and machine.
# bench/ is a Go module of its own (DuckDB is cgo; the Lambda functions never link it).
# make bench: builds every function (sizes), generates the data set into .local/bench/ on
# first use (cached after), prints the table. make bench-smoke: the same program on a tiny
# data set, answers checked, times not judged. BENCH_FLAGS passes flags (e.g. -only overview
# -cpuprofile cpu.prof -profile-case overview).
.PHONY: bench bench-smoke bench-console cost
# no_duckdb_arrow leaves out go-duckdb's Arrow interface (unused here), which would compile
# Apache Arrow v18 on top of the archive's v17: minutes on a fresh CI machine.
BENCH_BIN := .local/bench/bin/bench
BENCH_BUILD = cd bench && $(GO) build -tags no_duckdb_arrow -o ../$(BENCH_BIN) .
BENCH_FLAGS ?=

bench: build local/node_modules/.installed
	@$(BENCH_BUILD)
	@$(BENCH_BIN) -root . -scale full $(BENCH_FLAGS)

# make bench-console: the console's first load (JS+CSS bytes, first paint) and the time from
# signing in to a drawn overview, in Chromium through the Performance API, on the smoke data
# set (generated on first use, as bench-smoke does). RUNS=n loads each (default 5).
bench-console: local/node_modules/.installed console/node_modules/.package-lock.json
	@$(BENCH_BUILD)
	@data="$$($(BENCH_BIN) -root . -scale smoke -print-data-dir)" && \
	{ [ -f "$$data/manifest.json" ] || $(BENCH_BIN) -root . -scale smoke -only overview -runs 1 >/dev/null; } && \
	CHROMIUM_PATH=$(CHROMIUM_PATH) node console/bench/first-load.mjs "$$data"

bench-smoke: local/node_modules/.installed
	@$(BENCH_BUILD)
	@$(BENCH_BIN) -root . -scale smoke $(BENCH_FLAGS)
	@$(BENCH_BIN) -root . -scale smoke -cost

# make cost: the capacity and cost model of issue 15 (README "Scale and cost", docs/scale.md):
# measures DynamoDB units, S3 requests and CPU per action on DynamoDB Local and the
# in-process S3 (about 30 s), then prints the monthly bill and the limits at 1x to 1,000x
# the bench's data set. bench-smoke runs it on fewer events.
cost: local/node_modules/.installed
	@$(BENCH_BUILD)
	@$(BENCH_BIN) -root . -cost
