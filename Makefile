# mpass-audit — run `make help` for the targets.
GO      ?= go
BIN     := bin/mpass-audit
OUT     := out
DEMO_DB := $(OUT)/demo.db
OPA     := $(GO) tool opa

.DEFAULT_GOAL := help
.PHONY: help build test lint rego-test demo reports bench microbench fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/mpass-audit
	$(GO) build -o $(BIN) ./cmd/mpass-audit

test: lint ## lint, then every Go test (Rego unit tests and fuzz seed corpora included)
	$(GO) test -count=1 ./...

lint: ## gofmt, go vet, opa check --strict and opa fmt on the policies
	@u=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$u" ]; then echo "not gofmt-ed: $$u"; exit 1; fi
	$(GO) vet ./...
	$(OPA) check --strict rego
	@u=$$($(OPA) fmt --list rego); if [ -n "$$u" ]; then echo "not opa fmt-ed: $$u"; exit 1; fi

rego-test: ## the Rego unit tests with the stock OPA CLI; coverage (at least 90%) in out/rego-coverage.json
	$(OPA) test rego
	@mkdir -p $(OUT) && $(OPA) test rego --coverage --threshold 90 > $(OUT)/rego-coverage.json
	@grep -o '"coverage": [0-9.]*' $(OUT)/rego-coverage.json | tail -1

DEMO_ADDR ?= 127.0.0.1:8080

demo: build ## fresh database from the demo data: audit, report, then the service with a demo DPO token
	@mkdir -p $(OUT) && rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN) --db $(DEMO_DB) registry load testdata/demo/registry.yaml
	$(BIN) --db $(DEMO_DB) ingest testdata/demo/records.jsonl
	$(BIN) --db $(DEMO_DB) audit --format table
	$(BIN) --db $(DEMO_DB) report --controller 1.2.246.562.10.44444444440 --period 2026-10 --lang fi -o $(OUT)/report-fi.pdf
	@token=$$($(BIN) --db $(DEMO_DB) token create --role dpo --controller 1.2.246.562.10.44444444440 --name "demo DPO" 2>/dev/null) && \
	echo && echo "Open http://$(DEMO_ADDR)/ and log in as the DPO of Esimerkkilän kaupunki with" && echo "  $$token" && \
	echo "or: curl -H 'Authorization: Bearer $$token' http://$(DEMO_ADDR)/api/v1/runs" && echo "(Ctrl-C stops the service.)" && \
	$(BIN) --db $(DEMO_DB) serve --addr $(DEMO_ADDR)

reports: ## regenerate the golden sample reports (reports/golden/) from testdata/demo
	$(GO) test ./reports -run TestGolden -update -count=1

bench: build ## national scale: the national and diverse workloads at 1M and 10M records, the three baselines (needs the sqlite3 shell and GNU time), into docs/performance.md (about an hour)
	@mkdir -p $(OUT)/bench docs
	$(GO) run ./cmd/mpass-bench --bin $(BIN) --dir $(OUT)/bench --sizes 1000000,10000000 > $(OUT)/bench/performance.md
	cp $(OUT)/bench/performance.md docs/performance.md && cat docs/performance.md

microbench: ## go test benchmarks of the extractors, readers and policies
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## fuzz each reader for 30 s (the seed corpora run in make test)
	$(GO) test -run '^$$' -fuzz FuzzJSONL -fuzztime 30s ./internal/ingest
	$(GO) test -run '^$$' -fuzz FuzzCSV -fuzztime 30s ./internal/ingest
	$(GO) test -run '^$$' -fuzz FuzzShibboleth -fuzztime 30s ./internal/ingest

clean: ## remove build and demo output
	rm -rf bin $(OUT)
