# RiskLoop: `make demo` and `make test` are all a fresh Debian machine with Swift needs.

SWIFT ?= swift
DEMO_DIR ?= .riskloop

.PHONY: deps build demo demo-cluster test test-postgres docs check-openapi verify-exports notebooks baselines bench fixtures dataset format

## deps: install the system libraries (libblas-dev, libsqlite3-dev) when missing
deps:
	@scripts/install-deps.sh

## build: release build of the riskloop CLI
build: deps
	$(SWIFT) build -c release --product riskloop

## demo: 90 simulated days: first champion, replay with the feedback loop, weekly table, .riskloop/report.html
demo: build
	.build/release/riskloop demo --dir $(DEMO_DIR)

## demo-cluster: the demo's replay through two `riskloop serve` replicas on a throwaway PostgreSQL (installed when missing): the same weekly table, each replica's share of the traffic and its history lag
DEMO_PG_PORT ?= 55440
DEMO_REPLICA_PORT ?= 8181
demo-cluster: build
	scripts/demo-cluster.sh .build/release/riskloop $(DEMO_DIR)/cluster $(DEMO_PG_PORT) $(DEMO_REPLICA_PORT)

## test: the whole test suite (Swift Testing)
test: deps
	$(SWIFT) test

## test-postgres: the whole test suite with its PostgreSQL half, on a throwaway cluster (installed when missing) on port PG_TEST_PORT
PG_TEST_PORT ?= 55434
test-postgres: deps
	@dir=$$(mktemp -d /tmp/riskloop-pg.XXXXXX); \
	url=$$(scripts/postgres-cluster.sh start "$$dir" $(PG_TEST_PORT)) || exit 1; \
	RISKLOOP_TEST_POSTGRES_URL="$$url" $(SWIFT) test; status=$$?; \
	scripts/postgres-cluster.sh stop "$$dir"; rm -rf "$$dir"; exit $$status

## docs: the DocC documentation of RiskScoring (the library a service embeds) into .build/docs/RiskScoring
docs: deps
	mkdir -p .build/docs
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target RiskScoring \
		--output-path .build/docs/RiskScoring --warnings-as-errors

## check-openapi: schemathesis (all checks) against `riskloop serve` on the debug build (the one `make test` made), for at most OPENAPI_SECONDS
OPENAPI_SECONDS ?= 120
check-openapi: deps
	$(SWIFT) build --build-tests
	scripts/check-openapi.sh "$$($(SWIFT) build --show-bin-path)/riskloop" $(OPENAPI_SECONDS)

## verify-exports: PMML and ONNX exports scored by JPMML and onnxruntime against RiskLoop's own probabilities
EXPORTS_VENV ?= .venv-exports
verify-exports: deps
	@command -v java >/dev/null 2>&1 || scripts/install-deps.sh default-jre-headless
	$(SWIFT) build --product riskloop
	test -x $(EXPORTS_VENV)/bin/python || python3 -m venv $(EXPORTS_VENV)
	$(EXPORTS_VENV)/bin/pip install --quiet -r scripts/verify-requirements.txt
	$(EXPORTS_VENV)/bin/python scripts/verify_exports.py --riskloop "$$($(SWIFT) build --show-bin-path)/riskloop"

## notebooks: runs Notebooks/0*.py top to bottom in a pinned environment (RISKLOOP_NOTEBOOKS_FAST=1: small runs, as in CI)
NOTEBOOKS_VENV ?= .venv-notebooks
notebooks: deps
	$(SWIFT) build --product riskloop
	test -x $(NOTEBOOKS_VENV)/bin/python || python3 -m venv $(NOTEBOOKS_VENV)
	$(NOTEBOOKS_VENV)/bin/pip install --quiet -r Notebooks/requirements.txt
	for notebook in Notebooks/0*.py; do \
		RISKLOOP="$$($(SWIFT) build --show-bin-path)/riskloop" $(NOTEBOOKS_VENV)/bin/python "$$notebook" || exit 1; \
	done

## baselines: retrains Models/ss7/baseline (same weights, bit for bit) and rewrites their model cards
baselines: build
	scripts/train-baselines.sh .build/release/riskloop

VENV ?= .venv
PYTHON = $(VENV)/bin/python

## venv: a Python environment with the pinned reference libraries (scikit-learn, numpy, scipy)
$(PYTHON): Benchmarks/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r Benchmarks/requirements.txt
	touch $(PYTHON)

## bench: package-benchmark suites, the 1M-event retraining cycle, the side-by-side comparisons, scoring latency against the stub operator (docs/operators.md), then the handbook benchmark (docs/features.md)
bench: deps build $(PYTHON)
	@scripts/install-deps.sh wrk openssl
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress
	cd Benchmarks && $(SWIFT) run -c release CycleBenchmark
	cd Benchmarks && $(SWIFT) build -c release --product TrainingComparison
	cd Benchmarks && $(SWIFT) build -c release --product HTTPFloor
	$(PYTHON) Benchmarks/compare_ingest.py --riskloop .build/release/riskloop
	$(PYTHON) Benchmarks/compare_training.py
	$(PYTHON) Benchmarks/compare_http.py --riskloop .build/release/riskloop
	.build/release/riskloop demo --dir .build/bench-operators --customers 300 --days 24 --drift-day 18 --train-days 14 --operators stub > /dev/null
	$(PYTHON) scripts/enrichment_latency.py .build/release/riskloop .build/bench-operators/data/operator-view.jsonl
	$(PYTHON) Benchmarks/handbook_benchmark.py --riskloop .build/release/riskloop

## fixtures: regenerate the scikit-learn reference fixtures of the model tests
fixtures: $(PYTHON)
	$(PYTHON) Tests/RiskModelsTests/Fixtures/make_fixtures.py

## dataset: regenerate the committed sample under Datasets/sample (see Datasets/DATASHEET.md)
dataset: build
	Datasets/regenerate.sh .build/release/riskloop

## format: swift format, with the committed .swift-format
format:
	$(SWIFT) format --in-place --recursive Sources Tests Benchmarks/Benchmarks Package.swift Benchmarks/Package.swift
