# RiskLoop: `make demo` and `make test` are all a fresh Debian machine with Swift needs.

SWIFT ?= swift
DEMO_DIR ?= .riskloop

.PHONY: deps build demo test bench bench-compare dataset format

## deps: install the system libraries (libblas-dev, libsqlite3-dev) when missing
deps:
	@scripts/install-deps.sh

## build: release build of the riskloop CLI
build: deps
	$(SWIFT) build -c release --product riskloop

## demo: simulate a month of a bank, ingest it with its labels, print what is there
demo: build
	.build/release/riskloop demo --dir $(DEMO_DIR)

## test: the whole test suite (Swift Testing)
test: deps
	$(SWIFT) test

## bench: package-benchmark suites (ingest, simulator), then the side-by-side comparison
bench: deps build
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress
	python3 Benchmarks/compare_ingest.py --riskloop .build/release/riskloop

## dataset: regenerate the committed sample under Datasets/sample (see Datasets/DATASHEET.md)
dataset: build
	Datasets/regenerate.sh .build/release/riskloop

## format: swift format, with the committed .swift-format
format:
	$(SWIFT) format --in-place --recursive Sources Tests Benchmarks/Benchmarks Package.swift Benchmarks/Package.swift
