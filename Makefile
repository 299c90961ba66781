# All tests: what .ci/run runs after installing what they need (README).
.PHONY: test
test:
	go vet ./...
	go test -count=1 ./...
	CGO_ENABLED=1 go test -race -count=1 -run 'TestThread|TestDeferredEndpoints|TestNoGoroutineLeak' ./internal/plugins/tcpdiag/ ./internal/tcptrack/ ./internal/engine/
	CGO_ENABLED=1 go test -count=1 -tags duckdb -run DuckDB ./internal/engine/ ./internal/pqwrite/

# Benchmark of issues 6 and 15: builds the captures if missing (-k 40 and
# -k 200), alternates cat, flow mode (default and GOMAXPROCS=1), flow mode
# with tcpDiag, packet mode and the -k 200 run 9 times, and checks the
# issue-15 targets (medians; with 5 rounds the ratios swung by ±0.05
# between consecutive series on the shared machines, docs/performance.md).
# `go run ./tools/bench -h` for the other measurements.
.PHONY: bench
bench:
	go run ./tools/bench -targets -scale 200 -runs 9

# Output formats of issue 12: flow and packet mode with --format text,
# parquet and text,parquet alternated run by run, medians, ratios to text,
# file sizes.
.PHONY: bench-formats
bench-formats:
	go run ./tools/bench -runs 5 -formats "text;parquet;text,parquet"

# Profile-guided optimisation: CPU profiles of the benchmark's modes,
# merged into cmd/flowsift/default.pgo, which go build reads
# (docs/performance.md). Rerun after large changes of the hot path.
.PHONY: pgo
pgo:
	go run ./tools/bench -pgo cmd/flowsift/default.pgo -runs 5
